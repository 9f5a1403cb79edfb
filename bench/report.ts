// What `npm run bench` prints: per lab and per run the critical path and the wall time above it, the runner's peak
// memory, the baseline and the targets, each figure the median of the rounds with its spread beside it: the engine
// is shared and its timings are noisy.
import { availableParallelism } from "node:os";
import type { RunFigures } from "./critical-path.ts";
import type { Seen } from "./engine-watch.ts";
import { SAMPLE_MS } from "./process-tree.ts";
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

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const megabytes = (values: number[]) => spread(values, mb);

export function runTable(
  rounds: RunFigures[],
  baseline?: { launchedAt: number; exitedAt: number; labs: Map<string, number> }[],
): string[] {
  const each = <T>(pick: (round: RunFigures) => T) => rounds.map(pick);
  const labRow = (lab: string) => {
    const paths = rounds.flatMap((round) => round.labs.filter((path) => path.lab === lab));
    const of = (pick: (path: (typeof paths)[number]) => number) => paths.map(pick);
    const slowest = [...new Set(paths.map(({ slowest }) => (slowest ? shortName(slowest) : "–")))].join("/");
    return row([
      lab,
      paths[0]!.containers.length,
      `${slowest} ${spread(of((p) => p.readyMs))}`,
      spread(of((p) => p.windowsMs)),
      spread(of((p) => p.criticalMs)),
      spread(of((p) => p.fileMs)),
      spread(of((p) => p.fileMs - p.criticalMs)),
      spread(of((p) => p.toFirstCreateMs)),
      spread(of((p) => p.allReadyMs)),
      spread(of((p) => p.afterReadyMs)),
      megabytes(of((p) => p.runnerPeakKb)),
      ...(baseline ? [spread(baseline.flatMap((round) => round.labs.get(lab) ?? []))] : []),
    ]);
  };
  return [
    row([
      "Lab (spec file)",
      "containers",
      "slowest container: create → ready (s)",
      "sampling windows (s)",
      "**critical path** (s)",
      "wall time (s)",
      "**above critical path** (s)",
      "queued → first create (s)",
      "→ all ready (s)",
      "→ end (s)",
      "runner peak (MB)",
      ...(baseline ? ["baseline (s)"] : []),
    ]),
    row(["---", ...Array<string>(baseline ? 11 : 10).fill("---:")]),
    ...rounds[0]!.labs.map(({ lab }) => labRow(lab)),
    row([
      "**run** (vitest launch → exit)",
      rounds[0]!.labs.reduce((n, lab) => n + lab.containers.length, 0),
      `longest lab: ${[...new Set(each((round) => round.longest?.lab ?? "–"))].join("/")}`,
      "",
      spread(each((round) => round.longest?.criticalMs ?? 0)),
      spread(each((round) => round.wallMs)),
      spread(each((round) => round.aboveMs)),
      `${spread(each((round) => round.beforeFilesMs))} to the first file`,
      "",
      `${spread(each((round) => round.afterFilesMs))} after the last`,
      megabytes(each((round) => round.runnerPeakKb)),
      ...(baseline ? [spread(baseline.map((round) => round.exitedAt - round.launchedAt))] : []),
    ]),
  ];
}

export function runNotes(rounds: RunFigures[]): string {
  const each = (pick: (round: RunFigures) => number, unit = s) => spread(rounds.map(pick), unit);
  const all = rounds.flatMap((round) => round.labs.flatMap(({ containers }) => containers));
  const neverReady = [...new Set(all.filter(({ readyAt }) => readyAt === undefined).map(shortName))];
  const guessed = Math.max(...rounds.map((round) => round.guessed));
  const load = each(
    (round) => round.load,
    (value) => value.toFixed(1),
  );
  return [
    `Before the first spec file: ${each((round) => round.beforeFilesMs)} s (vitest start, global setup, ` +
      `${rounds[0]!.setupContainers} container(s) of its own); ` +
      `after the last: ${each((round) => round.afterFilesMs)} s.`,
    `Runner CPU time: ${each((round) => round.runnerCpuMs)} s; the machine's 1-minute load average while it ran: ` +
      `${load} on ${availableParallelism()} cores.`,
    `The machine's busy CPU while it ran (every process: the engine, its containers, the runner, others): ` +
      `${each((round) => round.machineBusyMs)} core-s, so on ${availableParallelism()} cores that work alone takes at ` +
      `least ${each((round) => round.machineBusyMs / availableParallelism())} s.`,
    `Whole process tree (guardian, Chromium): ${each((round) => round.treePeakKb, mb)} MB.`,
    ...(neverReady.length
      ? [`Never answered the probe before it stopped (left out of the critical path): ${neverReady.join(", ")}.`]
      : []),
    ...(guessed
      ? [
          `Up to ${guessed} container(s) fitted more than one file's time span: their lab is a guess (the file ` +
            "that fitted them tightest), so per-lab rows are approximate; the run's wall time and " +
            "memory are not.",
        ]
      : []),
  ].join(" ");
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
          `| Whole \`npm run labs\` ≤ ${s(TARGETS.wholeLabsMs)} s | ` +
            `${spread(whole.map((round) => round.wallMs))} s; its CPU work alone on ${availableParallelism()} cores: ` +
            `≥ ${spread(whole.map((round) => round.machineBusyMs / availableParallelism()))} s | ` +
            verdict(wall <= TARGETS.wholeLabsMs) +
            " |",
        ]
      : []),
    `| Runner peak memory ≤ ${mb(TARGETS.runnerKb)} MB | ${mb(peak)} MB (highest of all runs) | ` +
      `${verdict(peak <= TARGETS.runnerKb)} |`,
  ];
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
