// What `npm run bench` prints: each target of issue 26 beside its floor and the measured value, then where the time,
// the CPU and the memory went. Each figure is the median of the rounds, their range beside it: the engine is shared.
import { availableParallelism } from "node:os";
import type { RunFigures } from "./figures.ts";

const CORES = availableParallelism();
const LIMIT = { aboveFloorMs: 1_000, ofBaseline: 0.75, ofBusyFloor: 1.15, busyMs: 53_000, runnerKb: 380 * 1024 };

export interface Round {
  empty: RunFigures;
  service: RunFigures;
  baseline: RunFigures;
  whole?: RunFigures;
  idleBusyPerMs: number; // the machine's busy CPU per ms with no run of ours going: other people's work
}

const s = (ms: number) => (ms / 1000).toFixed(1);
const mb = (kb: number) => String(Math.round(kb / 1024));
const x = (ratio: number) => ratio.toFixed(2);

export const median = (values: number[]) => {
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

export function targets(rounds: Round[]): string[] {
  const each = (pick: (round: Round) => number) => rounds.map(pick);
  const per = (a: number[], b: number[]) => a.map((value, i) => value / b[i]!);
  const verdict = (measured: number[], limit: number[]) => (median(measured) <= median(limit) ? "met" : "**MISSED**");
  const [empty, critical] = [each((r) => r.empty.wallMs), each((r) => r.service.criticalMs)];
  const floor = empty.map((ms, i) => ms + critical[i]!);
  const [wall, baseline] = [each((r) => r.service.wallMs), each((r) => r.baseline.wallMs)];
  const rows = [
    [
      `Service labs: launch → exit ≤ vitest's empty run + critical path + ${s(LIMIT.aboveFloorMs)} s`,
      `${spread(floor)} s (${spread(empty)} + ${spread(critical)})`,
      `${spread(floor.map((ms) => ms + LIMIT.aboveFloorMs))} s`,
      `${spread(wall)} s`,
      verdict(
        wall,
        floor.map((ms) => ms + LIMIT.aboveFloorMs),
      ),
    ],
    [
      `Service labs ÷ the shell baseline (${spread(baseline)} s) ≤ ${LIMIT.ofBaseline}`,
      spread(per(floor, baseline), x),
      x(LIMIT.ofBaseline),
      spread(per(wall, baseline), x),
      verdict(per(wall, baseline), [LIMIT.ofBaseline]),
    ],
  ];
  const whole = rounds.flatMap(({ whole, idleBusyPerMs }) => (whole ? [{ ...whole, idleBusyPerMs }] : []));
  if (whole.length) {
    const [busy, wholeWall] = [whole.map((r) => r.busy.machine), whole.map((r) => r.wallMs)];
    const busyFloor = busy.map((ms) => ms / CORES);
    rows.push(
      [
        `Every lab: launch → exit ≤ ${LIMIT.ofBusyFloor} × busy core-s ÷ ${CORES} cores`,
        `${spread(busyFloor)} s`,
        `${spread(busyFloor.map((ms) => ms * LIMIT.ofBusyFloor))} s`,
        `${spread(wholeWall)} s`,
        verdict(per(wholeWall, busyFloor), [LIMIT.ofBusyFloor]),
      ],
      [
        `Every lab: the machine's busy core-s ≤ ${s(LIMIT.busyMs)}`,
        `${spread(whole.map((r) => r.wallMs * r.idleBusyPerMs))} (others' work, at the rate before the round)`,
        s(LIMIT.busyMs),
        spread(busy),
        verdict(busy, [LIMIT.busyMs]),
      ],
    );
  }
  const peak = Math.max(...rounds.flatMap(({ service, whole }) => [service.peakKb, whole?.peakKb ?? 0]));
  rows.push([
    "Runner peak memory (MB)",
    `${spread(
      each((r) => r.empty.peakKb),
      mb,
    )} (vitest's empty run)`,
    mb(LIMIT.runnerKb),
    `${mb(peak)} (the highest run)`,
    verdict([peak], [LIMIT.runnerKb]),
  ]);
  return table(["Target", "Floor", "Target", "Measured", ""], rows);
}

const KINDS = {
  empty: "vitest's empty run (2 trivial files)",
  service: "service labs (3-1, 3-2, 3-3)",
  baseline: "bench/baseline.sh (the service labs in bash)",
  whole: "every lab (`vitest run --project labs`)",
} as const;
const SHARES = ["machine", "runner", "children", "engine", "containers", "rest"] as const;

export function runs(rounds: Round[]): string[] {
  const rows = Object.entries(KINDS).flatMap(([kind, name]) => {
    const runs = rounds.flatMap((round) => round[kind as keyof typeof KINDS] ?? []);
    const each = (pick: (run: RunFigures) => number, unit = s) => spread(runs.map(pick), unit);
    if (runs.length === 0) return [];
    const heaps = runs[0]!.heapsKb.map(mb).join(" + ") || "–";
    return [
      [
        name,
        each((r) => r.wallMs),
        each((r) => r.criticalMs),
        each((r) => r.beforeFilesMs),
        ...SHARES.map((share) => each((r) => r.busy[share])),
        `${each((r) => r.peakKb, mb)} (${each((r) => r.beforeFilesKb ?? 0, mb)}; ${heaps})`,
        each(
          (r) => r.load,
          (load) => load.toFixed(1),
        ),
      ],
    ];
  });
  const head = ["Run", "launch → exit (s)", "critical path (s)", "to the first file (s)", "busy core-s: machine"];
  head.push("runner", "its children", "engine", "containers", "rest");
  return table([...head, "runner peak MB (before the files; workers' heaps)", "load"], rows);
}

export function labs(rounds: RunFigures[]): string[] {
  const names = [...new Set(rounds.flatMap(({ labs }) => labs.map(({ lab }) => lab)))];
  const rows = names.map((name) => {
    const labs = rounds.flatMap(({ labs }) => labs.filter(({ lab }) => lab === name));
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
    "probe on its published port, plus the sampling windows its steps declare; a run's is its longest lab's. wall: a " +
    "lab's, from vitest queuing its file to the file's end.",
  "- busy core-s: /proc/stat over the run, every process. runner: vitest's process, its workers included; its " +
    "children: what it started and waited for (Chromium, the docker CLI); engine: dockerd and its children " +
    "(containerd, docker-proxy); containers: their cgroups; rest: containerd's shims, the kernel, the bench, others.",
  "- runner peak: the main process's VmHWM. Pool threads runs the workers inside it, so the kernel cannot tell their " +
    "share; the main process's RSS before the first file is queued and each worker's V8 heap in use at its files' " +
    "ends (vitest --logHeapUsage) bound it.",
];
