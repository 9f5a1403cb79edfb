import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";

export async function evidenceFile(name: string): Promise<string> {
  const dir = join("reports", inject("runId"));
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}

export interface Point {
  seconds: number;
  value: number;
}

// A stretch of the time axis to shade and name, e.g. the idle window and the load burst.
export interface Band {
  from: number;
  to: number;
  label: string;
}

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (char) => `&#${char.charCodeAt(0)};`);

function ticks(min: number, max: number, wanted: number): { values: number[]; decimals: number } {
  const raw = (max - min || 1) / wanted;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= raw)!;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const values: number[] = [];
  for (let index = Math.floor(min / step); index <= Math.ceil(max / step); index++) {
    values.push(Number((index * step).toFixed(decimals)));
  }
  return { values, decimals };
}

const BAND_COLOURS = ["#9e9e9e", "#ef6c00", "#2e7d32", "#6a1b9a"];

// A small, dependency-free line chart for a report: time on the x axis, labelled ticks on both axes, shaded bands.
export function lineChartSvg(
  title: string,
  axes: { x: string; y: string },
  points: Point[],
  bands: Band[] = [],
): string {
  const [width, height] = [720, 320];
  const margin = { left: 64, right: 24, top: 40, bottom: 52 };
  const xs = [...points.map(({ seconds }) => seconds), ...bands.flatMap(({ from, to }) => [from, to])];
  const xTicks = ticks(Math.min(0, ...xs), Math.max(1, ...xs), 10);
  const [minX, maxX] = [xTicks.values[0]!, xTicks.values.at(-1)!];
  const yTicks = ticks(0, Math.max(1e-9, ...points.map(({ value }) => value)), 5);
  const maxY = yTicks.values.at(-1)!;
  const x = (seconds: number) =>
    margin.left + ((seconds - minX) / (maxX - minX)) * (width - margin.left - margin.right);
  const y = (value: number) => height - margin.bottom - (value / maxY) * (height - margin.top - margin.bottom);
  const [top, bottom, left, right] = [margin.top, height - margin.bottom, margin.left, width - margin.right];
  const path = points.map(({ seconds, value }) => `${x(seconds).toFixed(1)},${y(value).toFixed(1)}`).join(" ");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14">${escapeXml(title)}</text>`,
    ...bands.flatMap(({ from, to, label }, index) => [
      `<rect x="${x(from).toFixed(1)}" y="${top}" width="${(x(to) - x(from)).toFixed(1)}" height="${bottom - top}" fill="${BAND_COLOURS[index % BAND_COLOURS.length]}" fill-opacity="0.15"/>`,
      `<text x="${((x(from) + x(to)) / 2).toFixed(1)}" y="${top + 14}" text-anchor="middle" fill="#444">${escapeXml(label)}</text>`,
    ]),
    ...yTicks.values.flatMap((value) => [
      `<line x1="${left}" y1="${y(value).toFixed(1)}" x2="${right}" y2="${y(value).toFixed(1)}" stroke="#e0e0e0"/>`,
      `<text x="${left - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${value.toFixed(yTicks.decimals)}</text>`,
    ]),
    ...xTicks.values.flatMap((seconds) => [
      `<line x1="${x(seconds).toFixed(1)}" y1="${bottom}" x2="${x(seconds).toFixed(1)}" y2="${bottom + 5}" stroke="black"/>`,
      `<text x="${x(seconds).toFixed(1)}" y="${bottom + 18}" text-anchor="middle">${seconds.toFixed(xTicks.decimals)}</text>`,
    ]),
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="black"/>`,
    `<text x="${(left + right) / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(axes.x)}</text>`,
    `<text transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(axes.y)}</text>`,
    `<polyline fill="none" stroke="steelblue" stroke-width="2" points="${path}"/>`,
    ...points.map(
      ({ seconds, value }) =>
        `<circle cx="${x(seconds).toFixed(1)}" cy="${y(value).toFixed(1)}" r="3" fill="steelblue"/>`,
    ),
    `</svg>`,
  ].join("\n");
}
