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

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (char) => `&#${char.charCodeAt(0)};`);

// A small, dependency-free line chart: enough to show a figure rising under load in a report.
export function lineChartSvg(title: string, unit: string, points: Point[]): string {
  const [width, height, pad] = [640, 240, 40];
  const maxX = Math.max(1, ...points.map(({ seconds }) => seconds));
  const maxY = Math.max(1e-9, ...points.map(({ value }) => value));
  const x = (seconds: number) => pad + (seconds / maxX) * (width - 2 * pad);
  const y = (value: number) => height - pad - (value / maxY) * (height - 2 * pad);
  const path = points.map(({ seconds, value }) => `${x(seconds).toFixed(1)},${y(value).toFixed(1)}`).join(" ");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${pad}" y="20">${escapeXml(title)}</text>`,
    `<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="black"/>`,
    `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="black"/>`,
    `<text x="${width - pad}" y="${height - 10}" text-anchor="end">${maxX.toFixed(0)} s</text>`,
    `<text x="4" y="${pad}">${maxY.toPrecision(3)} ${escapeXml(unit)}</text>`,
    `<polyline fill="none" stroke="steelblue" stroke-width="2" points="${path}"/>`,
    ...points.map(
      ({ seconds, value }) =>
        `<circle cx="${x(seconds).toFixed(1)}" cy="${y(value).toFixed(1)}" r="2.5" fill="steelblue"/>`,
    ),
    `</svg>`,
  ].join("\n");
}
