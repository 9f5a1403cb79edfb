// Per spec file: which containers it started, the slowest one's create-to-ready, the sampling windows its steps
// declare, and what its wall time spent around them. The critical path of a lab is the least any runner could take
// for it: its slowest container getting ready plus the windows it must sample, everything else being overhead.
import { basename } from "node:path";
import type { Seen } from "./engine-watch.ts";
import type { ProcessTreeSampler } from "./process-tree.ts";
import type { SpecTiming as ModuleTiming } from "./runs.ts";

// Engine events and the main process's reporter clock agree to a few milliseconds; the reporter hears of a file
// a little after its worker started it.
const SLACK_MS = 100;

export const labName = (file: string) => basename(file).replace(/\.spec\.ts$/, "");

export interface LabPath {
  lab: string;
  containers: Seen[];
  slowest?: Seen;
  readyMs: number;
  windowsMs: number;
  criticalMs: number;
  fileMs: number;
  // The file's wall time in three parts. Queued to its first container's create: a worker, imports, steps before any
  // container. Then to its last container's ready: more than readyMs when containers start one after another. Then
  // to the file's end: the steps' own work and the fixtures' teardown.
  toFirstCreateMs: number;
  allReadyMs: number;
  afterReadyMs: number;
}

const readyMs = ({ createdAt, readyAt }: Seen) =>
  createdAt === undefined || readyAt === undefined ? 0 : Math.max(0, readyAt - createdAt);

// The suite labels each container with the spec file that created it. A container without that label (one the global
// setup started, an intermediate container of a legacy build) goes, with the others of its testcontainers session, to
// the file that was running from their first create to their last removal; where several were, the one that fits
// them tightest wins: a file creates its early containers as it starts and removes its file-scoped ones as it ends.
// Where more than one file fitted, the choice is a guess, and the guesses are counted.
export function attribute(containers: Seen[], modules: ModuleTiming[], exitedAt: number) {
  const owned = new Map<ModuleTiming, Seen[]>();
  const groups = new Map<string, Seen[]>();
  for (const container of containers) {
    const labelled = container.spec && modules.find(({ file }) => file === container.spec);
    if (labelled) {
      owned.set(labelled, [...(owned.get(labelled) ?? []), container]);
      continue;
    }
    const key = container.session ?? container.id;
    groups.set(key, [...(groups.get(key) ?? []), container]);
  }
  const beforeFiles: Seen[] = [];
  let guessed = 0;
  for (const group of groups.values()) {
    const first = Math.min(...group.map(({ createdAt }) => createdAt!));
    const last = Math.max(...group.map(({ destroyedAt, diedAt }) => destroyedAt ?? diedAt ?? exitedAt));
    const candidates = modules.filter(
      ({ queuedAt, endedAt }) => queuedAt - SLACK_MS <= first && last <= (endedAt ?? exitedAt) + SLACK_MS,
    );
    const looseness = ({ queuedAt, startedAt, endedAt }: ModuleTiming) =>
      first - (startedAt ?? queuedAt) + ((endedAt ?? exitedAt) - last);
    const owner = candidates.sort((a, b) => looseness(a) - looseness(b))[0];
    if (!owner) beforeFiles.push(...group);
    else owned.set(owner, [...(owned.get(owner) ?? []), ...group]);
    if (candidates.length > 1) guessed += group.length;
  }
  return { owned, beforeFiles, guessed };
}

export function labPath(module: ModuleTiming, containers: Seen[], windowsMs: number, exitedAt: number): LabPath {
  const ready = containers.filter(({ readyAt }) => readyAt !== undefined);
  const slowest = ready.reduce<Seen | undefined>((a, b) => (a && readyMs(a) >= readyMs(b) ? a : b), undefined);
  const endedAt = module.endedAt ?? exitedAt;
  const firstCreate = Math.min(...containers.map(({ createdAt }) => createdAt!));
  const lastReady = Math.max(...ready.map(({ readyAt }) => readyAt!));
  return {
    lab: labName(module.file),
    containers,
    slowest,
    readyMs: slowest ? readyMs(slowest) : 0,
    windowsMs,
    criticalMs: (slowest ? readyMs(slowest) : 0) + windowsMs,
    fileMs: endedAt - module.queuedAt,
    toFirstCreateMs: containers.length ? firstCreate - module.queuedAt : 0,
    allReadyMs: ready.length ? lastReady - firstCreate : 0,
    afterReadyMs: ready.length ? endedAt - lastReady : 0,
  };
}

export interface RunFigures {
  wallMs: number;
  labs: (LabPath & { runnerPeakKb: number })[];
  // The run's critical path is its longest lab's: the least the run could take with every lab in parallel.
  longest?: LabPath;
  aboveMs: number;
  beforeFilesMs: number;
  afterFilesMs: number;
  runnerPeakKb: number;
  treePeakKb: number;
  // CPU seconds the runner used, and the machine's mean 1-minute load average while it ran: on a shared engine the
  // first says what the suite costs, the second how far its wall times are stretched by others.
  runnerCpuMs: number;
  load: number;
  machineBusyMs: number;
  setupContainers: number;
  guessed: number;
}

interface Run {
  launchedAt: number;
  exitedAt: number;
  modules: ModuleTiming[];
  containers: Seen[];
  tree: ProcessTreeSampler;
}

export function figures(run: Run, windowsMs: (lab: string) => number): RunFigures {
  const { owned, beforeFiles, guessed } = attribute(run.containers, run.modules, run.exitedAt);
  const labs = [...run.modules]
    .sort((a, b) => a.queuedAt - b.queuedAt)
    .map((module) => ({
      ...labPath(module, owned.get(module) ?? [], windowsMs(labName(module.file)), run.exitedAt),
      runnerPeakKb: run.tree.peak("runnerKb", module.queuedAt, module.endedAt ?? run.exitedAt),
    }));
  const longest = labs.reduce<LabPath | undefined>((a, b) => (a && a.criticalMs >= b.criticalMs ? a : b), undefined);
  const wallMs = run.exitedAt - run.launchedAt;
  return {
    wallMs,
    labs,
    longest,
    aboveMs: wallMs - (longest?.criticalMs ?? 0),
    beforeFilesMs: Math.min(...run.modules.map(({ queuedAt }) => queuedAt)) - run.launchedAt,
    afterFilesMs: run.exitedAt - Math.max(...run.modules.map(({ endedAt }) => endedAt ?? run.exitedAt)),
    runnerPeakKb: run.tree.peak("runnerKb"),
    treePeakKb: run.tree.peak("treeKb"),
    runnerCpuMs: run.tree.peak("runnerCpuMs"),
    machineBusyMs: run.tree.machineBusyMs,
    load: run.tree.samples.reduce((sum, { load }) => sum + load, 0) / Math.max(1, run.tree.samples.length),
    setupContainers: beforeFiles.length,
    guessed,
  };
}
