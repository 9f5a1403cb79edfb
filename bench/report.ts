// What `npm run bench` prints: per lab and per run the critical path and the wall time above it, the runner's peak
// memory, the baseline and the targets, each figure the median of the rounds with its spread beside it: the engine
// is shared and its timings are noisy.
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { dockerApi } from "../helpers/engine/client.ts";
import type { LabPath, RunFigures } from "./critical-path.ts";
import type { Seen } from "./engine-watch.ts";
import { SAMPLE_MS } from "./memory.ts";
import { PROBE_EVERY_MS } from "./probe.ts";

export const TARGETS = { aboveCriticalMs: 1_000, wholeLabsMs: 20_000, runnerKb: 300 * 1024 };

const s = (ms: number) => (ms / 1000).toFixed(1);
const mb = (kb: number) => String(Math.round(kb / 1024));
const verdict = (met: boolean) => (met ? "met" : "**MISSED**");

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// "3.1 (2.9–3.4)": the median, then the spread over the rounds.
function spread(values: number[], unit = s): string {
  if (values.length === 0) return "–";
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return values.length === 1 || unit(low) === unit(high)
    ? unit(median(values))
    : `${unit(median(values))} (${unit(low)}–${unit(high)})`;
}

// The book's name of a container, without the run id the suite appends; the image for an unnamed one.
const shortName = ({ name, image }: Seen) =>
  /-[a-z0-9]+-\d+-[0-9a-f]{4}$/.test(name)
    ? name.replace(/-[a-z0-9]+-\d+-[0-9a-f]{4}$/, "")
    : (image.split("/").pop() ?? image);

export function runTable(
  rounds: RunFigures[],
  baseline?: { launchedAt: number; exitedAt: number; labs: Map<string, number> }[],
): string[] {
  const labs = rounds[0]!.labs.map(({ lab }) => lab);
  const per = <T>(lab: string, pick: (path: LabPath & { runnerPeakKb: number }) => T) =>
    rounds.map((round) => round.labs.find((path) => path.lab === lab)).flatMap((path) => (path ? [pick(path)] : []));
  const rows = labs.map((lab) => {
    const slowest = [...new Set(per(lab, ({ slowest }) => (slowest ? shortName(slowest) : "–")))].join("/");
    const scripted = baseline ? ` ${spread(baseline.flatMap((round) => round.labs.get(lab) ?? []))} |` : "";
    return (
      `| ${lab} | ${per(lab, ({ containers }) => containers.length)[0]} | ${slowest} ${spread(per(lab, (p) => p.readyMs))} | ` +
      `${spread(per(lab, (p) => p.windowsMs))} | ${spread(per(lab, (p) => p.criticalMs))} | ` +
      `${spread(per(lab, (p) => p.fileMs))} | ${spread(per(lab, (p) => p.fileMs - p.criticalMs))} | ` +
      `${spread(per(lab, (p) => p.toFirstCreateMs))} | ${spread(per(lab, (p) => p.allReadyMs))} | ` +
      `${spread(per(lab, (p) => p.afterReadyMs))} | ` +
      `${spread(
        per(lab, (p) => p.runnerPeakKb),
        mb,
      )} |${scripted}`
    );
  });
  const longest = [...new Set(rounds.map((round) => round.longest?.lab ?? "–"))].join("/");
  return [
    "| Lab (spec file) | containers | slowest container: create → ready (s) | sampling windows (s) | **critical path** (s) | " +
      `wall time (s) | **above critical path** (s) | queued → first create (s) | → all ready (s) | → end (s) | ` +
      `runner peak (MB) |${baseline ? " baseline (s) |" : ""}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${baseline ? " ---: |" : ""}`,
    ...rows,
    `| **run** (vitest launch → exit) | ${rounds[0]!.labs.reduce((n, lab) => n + lab.containers.length, 0)} | ` +
      `longest lab: ${longest} | | ${spread(rounds.map((round) => round.longest?.criticalMs ?? 0))} | ` +
      `${spread(rounds.map((round) => round.wallMs))} | ${spread(rounds.map((round) => round.aboveMs))} | ` +
      `${spread(rounds.map((round) => round.beforeFilesMs))} to the first file | | ` +
      `${spread(rounds.map((round) => round.afterFilesMs))} after the last | ` +
      `${spread(
        rounds.map((round) => round.runnerPeakKb),
        mb,
      )} |` +
      (baseline ? ` ${spread(baseline.map((round) => round.exitedAt - round.launchedAt))} |` : ""),
  ];
}

export function runNotes(rounds: RunFigures[]): string {
  const neverReady = rounds.flatMap((round) => round.labs).reduce((n, lab) => n + lab.neverReady, 0);
  return (
    `Before the first spec file: ${spread(rounds.map((round) => round.beforeFilesMs))} s (vitest start, global ` +
    `setup, ${rounds[0]!.setupContainers} container(s) of its own); after the last: ` +
    `${spread(rounds.map((round) => round.afterFilesMs))} s. Whole process tree (guardian, Chromium): ` +
    `${spread(
      rounds.map((round) => round.treePeakKb),
      mb,
    )} MB.` +
    (neverReady ? ` ${neverReady} container(s) never answered the probe (left out of the critical path).` : "") +
    (rounds.some((round) => round.guessed)
      ? " Containers without a testcontainers session, placed by time: " +
        `${Math.max(...rounds.map((round) => round.guessed))}.`
      : "")
  );
}

export function targets(service: RunFigures[], whole: RunFigures[]): string[] {
  const above = median(service.map((round) => round.aboveMs));
  const wall = median(whole.map((round) => round.wallMs));
  const peak = Math.max(...[...service, ...whole].map((round) => round.runnerPeakKb));
  return [
    "| Target | Measured | |",
    "| --- | --- | --- |",
    `| Service labs: vitest launch → exit ≤ critical path + ${s(TARGETS.aboveCriticalMs)} s | ` +
      `${spread(service.map((round) => round.aboveMs))} s above | ${verdict(above <= TARGETS.aboveCriticalMs)} |`,
    ...(whole.length
      ? [
          `| Whole \`npm run labs\` ≤ ${s(TARGETS.wholeLabsMs)} s | ${spread(whole.map((round) => round.wallMs))} s | ` +
            verdict(wall <= TARGETS.wholeLabsMs) +
            " |",
        ]
      : []),
    `| Runner peak memory ≤ ${mb(TARGETS.runnerKb)} MB | ${mb(peak)} MB (highest of all runs) | ` +
      `${verdict(peak <= TARGETS.runnerKb)} |`,
  ];
}

export async function machine(): Promise<string> {
  const docker = await dockerApi();
  const [version, info] = await Promise.all([docker.version(), docker.info()]);
  const debian = (() => {
    try {
      return `Debian ${readFileSync("/etc/debian_version", "utf8").trim()}`;
    } catch {
      return process.platform;
    }
  })();
  return (
    `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${debian}, Docker ${version.Version} (cgroup v${info.CgroupVersion}, ` +
    `${info.Driver}), Node ${process.version}`
  );
}

export const DEFINITIONS = [
  "- critical path of a lab: its slowest container's create → ready, plus the sampling windows its steps declare " +
    "(read from the spec). create is the engine's event; ready is the first answer to the bench's own probe on the " +
    `port published on 127.0.0.1, every ${PROBE_EVERY_MS} ms: a MySQL handshake packet, an HTTP answer below 500 ` +
    "(cAdvisor: `/healthz` saying ok; registry: `/v2/`); a container that publishes nothing is ready at its start.",
  "- critical path of a run: its longest lab's. That is the least the run could take if every lab ran at once; it " +
    "ignores that two workers run three or more files, so it is a floor, not a schedule.",
  "- wall time: a lab's, from vitest queuing its file on a worker to the file's end (imports, steps, fixture " +
    "teardown), split at its first container's create and its last container's ready; a run's, the vitest process " +
    "from launch to exit. above critical path: wall time − critical path.",
  `- runner peak: the largest RSS sum, sampled every ${SAMPLE_MS} ms, of vitest's main process (its worker threads ` +
    "included) and any vitest process it forks; per lab, over the samples taken while its file ran, alongside others.",
];
