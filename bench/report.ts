// What `npm run bench` prints: each target of issue 26 beside its floor and the measured value, then where the time,
// the CPU and the memory went. Each figure is the median of the rounds, their range beside it: the engine is shared.
import { availableParallelism } from "node:os";
import type { RunFigures } from "./figures.ts";

const CORES = availableParallelism();
const LIMIT = { aboveFloorMs: 1_000, ofBaseline: 0.75, ofBusyFloor: 1.15, busyMs: 53_000, runnerKb: 380 * 1024 };

export interface Round {
  empty: RunFigures;
  stackEmpty: RunFigures;
  service: RunFigures;
  baseline: RunFigures;
  whole?: RunFigures;
  idleBusyPerMs: number; // the machine's busy CPU per ms with no run of ours going: other people's work
}

const s = (ms: number) => (ms / 1000).toFixed(1);
const mb = (kb: number) => String(Math.round(kb / 1024));
const x = (ratio: number) => ratio.toFixed(2);

const median = (values: number[]) => {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// "3.1 (2.9–3.4)": the median, then the spread over the rounds.
function spread(values: number[], unit = s): string {
  if (values.length === 0) return "–";
  const [low, high] = [unit(Math.min(...values)), unit(Math.max(...values))];
  return low === high ? unit(median(values)) : `${unit(median(values))} (${low}–${high})`;
}

const row = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
const table = (head: string[], rows: (string | number)[][]) => [
  row(head),
  row(head.map((_, index) => (index ? "---:" : "---"))),
  ...rows.map(row),
];

// Each target's [floor, limit, measured] in each round that measured it. Met when, in the median round, the measured
// value is within that round's limit.
export function targets(rounds: Round[]): string[] {
  const whole = rounds.flatMap(({ whole, idleBusyPerMs }) => (whole ? [{ ...whole, idleBusyPerMs }] : []));
  const floor = ({ empty, service }: Round) => empty.wallMs + service.criticalMs;
  const busyFloor = ({ busy }: RunFigures) => busy.machine / CORES;
  const sec = (ms: number) => `${s(ms)} s`;
  const all: [string, string, (value: number) => string, [floor: number, limit: number, measured: number][]][] = [
    [
      `Service labs: launch → exit ≤ vitest's empty run + critical path + ${sec(LIMIT.aboveFloorMs)}`,
      "empty run + critical path",
      sec,
      rounds.map((r) => [floor(r), floor(r) + LIMIT.aboveFloorMs, r.service.wallMs]),
    ],
    [
      `Service labs ÷ bench/baseline.sh ≤ ${LIMIT.ofBaseline}`,
      "(empty run + critical path) ÷ baseline",
      x,
      rounds.map((r) => [floor(r) / r.baseline.wallMs, LIMIT.ofBaseline, r.service.wallMs / r.baseline.wallMs]),
    ],
    [
      `Every lab: launch → exit ≤ ${LIMIT.ofBusyFloor} × busy core-s ÷ ${CORES} cores`,
      "busy core-s ÷ cores",
      sec,
      whole.map((r) => [busyFloor(r), busyFloor(r) * LIMIT.ofBusyFloor, r.wallMs]),
    ],
    [
      `Every lab: the machine's busy core-s ≤ ${s(LIMIT.busyMs)}`,
      "others' work, at the idle rate before the round",
      s,
      whole.map((r) => [r.wallMs * r.idleBusyPerMs, LIMIT.busyMs, r.busy.machine]),
    ],
    [
      `Runner peak memory ≤ ${mb(LIMIT.runnerKb)} MB`,
      "vitest's empty run",
      (kb) => `${mb(kb)} MB`,
      rounds.map((r) => [r.empty.peakKb, LIMIT.runnerKb, Math.max(r.service.peakKb, r.whole?.peakKb ?? 0)]),
    ],
  ];
  const rows = all.flatMap(([name, floorIs, unit, each]) => {
    if (each.length === 0) return [];
    const column = (index: 0 | 1 | 2) =>
      spread(
        each.map((round) => round[index]),
        unit,
      );
    const met = median(each.map(([, limit, measured]) => measured / limit)) <= 1;
    return [[name, `${column(0)} (${floorIs})`, column(1), column(2), met ? "met" : "**MISSED**"]];
  });
  return table(["Target", "Floor", "Limit", "Measured", ""], rows);
}

const KINDS = {
  empty: "vitest's empty run (2 trivial files)",
  stackEmpty:
    "the same with the suite's stack (a global setup that asks testcontainers for its client; both files import it)",
  service: "service labs (3-1, 3-2, 3-3)",
  baseline: "bench/baseline.sh (the service labs in bash)",
  whole: "every lab (`vitest run --project labs`)",
} as const;
const SHARES = ["machine", "runner", "children", "engine", "containers", "rest"] as const;

export function runs(rounds: Round[]): string[] {
  const rows = Object.entries(KINDS).flatMap(([kind, name]) => {
    const runs = rounds.flatMap((round) => round[kind as keyof typeof KINDS] ?? []);
    if (runs.length === 0) return [];
    const each = (pick: (run: RunFigures) => number, unit = s) => spread(runs.map(pick), unit);
    const times = [each((r) => r.wallMs), each((r) => r.criticalMs), each((r) => r.beforeFilesMs)];
    const heaps = runs[0]!.heapsKb.map(mb).join(" + ") || "–";
    const memory = `${each((r) => r.peakKb, mb)} (${each((r) => r.beforeFilesKb ?? 0, mb)}; ${heaps})`;
    return [[name, ...times, ...SHARES.map((share) => each((r) => r.busy[share])), memory, each((r) => r.load, x)]];
  });
  const head = ["Run", "launch → exit (s)", "critical path (s)", "to the first file (s)", "busy core-s: machine"];
  head.push("runner", "its children", "engine", "containers", "rest", "runner peak MB (before the files; heaps)");
  return table([...head, "load"], rows);
}

export function labs(rounds: RunFigures[]): string[] {
  const everyRound = rounds.flatMap(({ labs }) => labs);
  const rows = [...Map.groupBy(everyRound, ({ lab }) => lab)].map(([name, labs]) => {
    const each = (pick: (lab: (typeof labs)[number]) => number) => spread(labs.map(pick));
    const [ready, critical, wall] = [each((l) => l.readyMs), each((l) => l.criticalMs), each((l) => l.fileMs)];
    return [name, `${labs[0]!.slowest} ${ready}`, each((l) => l.windowsMs), critical, wall, each((l) => l.cpuMs)];
  });
  const head = ["Lab", "slowest container: create → ready (s)", "windows (s)", "critical path (s)", "wall (s)"];
  return table([...head, "its containers' CPU (s)"], rows);
}

// The steps that took longest, or the containers that used the most CPU (those of one name summed in a round).
export function largest(rounds: RunFigures[], what: "steps" | "containers", count = 8): string {
  const values = new Map<string, number[]>();
  for (const round of rounds) {
    const sums = new Map<string, number>();
    for (const { name, ms } of round[what]) sums.set(name, (sums.get(name) ?? 0) + ms);
    for (const [name, ms] of sums) values.set(name, [...(values.get(name) ?? []), ms]);
  }
  const top = [...values].sort(([, a], [, b]) => median(b) - median(a)).slice(0, count);
  return top.map(([name, ms]) => `${name} ${spread(ms)} s`).join("; ");
}

export const DEFINITIONS = [
  "- critical path: a lab's slowest container from the engine's `create` to its first answer to the bench's own " +
    "probe on its published port, plus the sampling windows its steps declare; a run's is its longest lab's. A lab's " +
    "wall: from vitest queuing its file to the file's end.",
  "- busy core-s: /proc/stat over the run, every process. runner: vitest's process, its workers included; its " +
    "children: what it started and waited for (Chromium, the docker CLI); engine: dockerd and its children " +
    "(containerd, docker-proxy), other people's use of it included; containers: the run's, by their cgroups; rest: " +
    "containerd's shims, the kernel, the bench, other people's work.",
  "- runner peak: the main process's VmHWM. Pool threads runs the workers inside it, so the kernel cannot tell their " +
    "share; the main process's RSS before the first file is queued, and each worker's V8 heap in use at its files' " +
    "ends (vitest --logHeapUsage, the largest per worker), bound it.",
];
