// From the suite's timings (bench/timing-reporter.ts) and the engine's view of the containers to overheads: which
// step started which container, how long its labs' containers were getting ready, and what is left of each step.
import { basename } from "node:path";
import type { Tracked } from "./readiness.ts";

// The shapes bench/timing-reporter.ts writes, times in epoch milliseconds.
export interface Step {
  title: string;
  fullName: string;
  state: string;
  startTime: number;
  durationMs: number;
}

export interface Module {
  moduleId: string;
  queuedAt?: number;
  startedAt?: number;
  endedAt?: number;
  steps: Step[];
}

export interface Timings {
  runStartedAt: number;
  runEndedAt: number;
  modules: Module[];
}

type Interval = [number, number];

// Time covered by at least one interval: containers that get ready side by side cost their lab the time once.
function unionMs(intervals: Interval[]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let current: Interval | undefined;
  for (const [a, b] of sorted) {
    if (!current || a > current[1]) {
      if (current) total += current[1] - current[0];
      current = [a, b];
    } else current[1] = Math.max(current[1], b);
  }
  if (current) total += current[1] - current[0];
  return total;
}

const clip = ([a, b]: Interval, [lo, hi]: Interval): Interval => [Math.max(a, lo), Math.min(b, hi)];

function readyInterval(container: Tracked): Interval | undefined {
  const from = container.createdAt ?? container.startedAt;
  const to = container.readyAt ?? container.startedAt;
  return from === undefined || to === undefined ? undefined : [from, Math.max(from, to)];
}

export const labName = (moduleId: string) => basename(moduleId).replace(/\.spec\.ts$/, "");

// The containers a lab started, seen in the run: the legacy builder runs each Dockerfile step in a container of the
// image built so far (named by its id); those are part of `docker build`, counted apart.
export function labContainers(all: Iterable<Tracked>, runId: string | undefined) {
  const ofRun = [...all].filter(
    (container) => container.runId === runId && (container.createdAt ?? container.startedAt) !== undefined,
  );
  const isBuildStep = ({ image }: Tracked) => /^(sha256:)?[0-9a-f]{12,64}$/.test(image);
  const containers = ofRun.filter((container) => !isBuildStep(container));
  return { containers, buildSteps: ofRun.length - containers.length };
}

export interface Attribution {
  steps: Map<Step, Tracked[]>;
  modules: Map<Module, Tracked[]>;
  byTime: number;
  byTieBreak: number;
  outsideSteps: number;
}

// Each container is charged to the step that was running when the engine created it (file-scoped fixtures start
// inside the first step that uses them). Where steps of several files or of a concurrent describe overlap, the
// tie-break is: the file whose other containers share its testcontainers session (one per worker), then the step
// whose title names the container's image, then the step that started last.
export function attribute(modules: Module[], containers: Tracked[]): Attribution {
  const result: Attribution = { steps: new Map(), modules: new Map(), byTime: 0, byTieBreak: 0, outsideSteps: 0 };
  const allSteps = modules.flatMap((module) => module.steps.map((step) => ({ module, step })));
  const sessionModule = new Map<string, Module>();
  const assign = (container: Tracked, module: Module, step?: Step) => {
    result.modules.set(module, [...(result.modules.get(module) ?? []), container]);
    if (step) result.steps.set(step, [...(result.steps.get(step) ?? []), container]);
    if (container.session) sessionModule.set(container.session, module);
  };
  const ambiguous: { container: Tracked; candidates: typeof allSteps }[] = [];
  for (const container of containers) {
    const at = container.createdAt ?? container.startedAt ?? 0;
    const candidates = allSteps.filter(
      ({ step }) => step.startTime - 5 <= at && at <= step.startTime + step.durationMs + 5,
    );
    if (candidates.length === 1) {
      assign(container, candidates[0]!.module, candidates[0]!.step);
      result.byTime++;
    } else ambiguous.push({ container, candidates });
  }
  for (const { container, candidates } of ambiguous) {
    const at = container.createdAt ?? container.startedAt ?? 0;
    if (candidates.length === 0) {
      const module = modules.find(({ queuedAt, endedAt }) => (queuedAt ?? 0) <= at && at <= (endedAt ?? 0));
      if (module) assign(container, module);
      result.outsideSteps++;
      continue;
    }
    let pool = candidates;
    const sameSession = container.session ? sessionModule.get(container.session) : undefined;
    if (sameSession && pool.some(({ module }) => module === sameSession)) {
      pool = pool.filter(({ module }) => module === sameSession);
    }
    const imageWord = container.image.split("/").pop()?.split(":")[0]?.toLowerCase() ?? "";
    const named = pool.filter(({ step }) => imageWord && step.title.toLowerCase().includes(imageWord));
    if (named.length > 0) pool = named;
    const chosen = pool.reduce((latest, next) => (next.step.startTime > latest.step.startTime ? next : latest));
    assign(container, chosen.module, chosen.step);
    result.byTieBreak++;
  }
  return result;
}

// Per spec file, in the order vitest queued them: its containers' start-to-ready and its own total time.
export function labTimings(modules: Module[], who: Attribution) {
  return [...modules]
    .sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0))
    .map((module) => {
      const own = who.modules.get(module) ?? [];
      return {
        lab: labName(module.moduleId),
        steps: module.steps.length,
        containers: own.length,
        readyMs: unionMs(own.map(readyInterval).filter((interval) => interval !== undefined)),
        specMs: (module.endedAt ?? 0) - (module.queuedAt ?? 0),
      };
    });
}

// Per step that ran (skipped ones are left out): its duration less its own containers' start-to-ready within it.
export function stepOverheads(modules: Module[], who: Attribution) {
  return modules.flatMap((module) =>
    module.steps
      .filter(({ state }) => state === "passed" || state === "failed")
      .map((step) => {
        const window: Interval = [step.startTime, step.startTime + step.durationMs];
        const intervals = (who.steps.get(step) ?? [])
          .map(readyInterval)
          .filter((interval) => interval !== undefined)
          .map((interval) => clip(interval, window));
        return { lab: labName(module.moduleId), step, overheadMs: step.durationMs - unionMs(intervals) };
      }),
  );
}

// The most spec files between vitest queuing them and their end at any one moment.
export function maxOverlap(modules: Module[]): number {
  const edges = modules.flatMap(({ queuedAt, endedAt }) => [
    [queuedAt ?? 0, 1],
    [endedAt ?? 0, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let max = 0;
  for (const [, delta] of edges) max = Math.max(max, (now += delta!));
  return max;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
