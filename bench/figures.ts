// A run's figures from its run model, its containers and its usage. The critical path of a lab is the least any runner
// could take for it: its slowest container's create → first answer to the bench's probe, plus the sampling windows its
// steps declare; a run's is its longest lab's, a floor (every lab at once), not a schedule.
import { basename } from "node:path";
import type { SuiteRun, Timed } from "./runs.ts";
import { windowsMs } from "./windows.ts";

const labName = (file: string) => basename(file).replace(/\.spec\.ts$/, "");

export type RunFigures = ReturnType<typeof figures>;

export function figures(run: Timed & Partial<SuiteRun>) {
  const { usage } = run;
  const containers = run.containers ?? [];
  const files = (run.result?.files ?? []).flatMap(({ file, times }) => (times ? [{ file, ...times }] : []));
  const labs = files.map(({ file, queuedAt, endedAt = run.exitedAt }) => {
    const own = containers.filter(({ spec }) => spec === file);
    const ready = own.map(({ name, createdAt = 0, readyAt }) => ({ name, ms: readyAt ? readyAt - createdAt : 0 }));
    const slowest = ready.reduce((a, b) => (b.ms > a.ms ? b : a), { name: "–", ms: 0 });
    const windows = windowsMs(labName(file));
    return {
      lab: labName(file),
      slowest: slowest.name,
      readyMs: slowest.ms,
      windowsMs: windows,
      criticalMs: slowest.ms + windows,
      fileMs: endedAt - queuedAt, // queued on a worker → ended
      cpuMs: own.reduce((sum, { cpuMs }) => sum + cpuMs, 0),
    };
  });
  const firstQueued = Math.min(...files.map(({ queuedAt }) => queuedAt));
  const heaps = new Map<number, number>();
  for (const { worker = 0, heapBytes = 0 } of files) heaps.set(worker, Math.max(heaps.get(worker) ?? 0, heapBytes));
  const containersMs = containers.reduce((sum, { cpuMs }) => sum + cpuMs, 0);
  const engine = Number.isNaN(usage.engineMs) ? 0 : usage.engineMs;
  return {
    wallMs: run.exitedAt - run.launchedAt,
    load: usage.load,
    busy: {
      machine: usage.machineMs,
      runner: usage.childOwnMs,
      children: usage.childTreeMs - usage.childOwnMs,
      engine,
      containers: containersMs,
      rest: usage.machineMs - usage.childTreeMs - engine - containersMs,
    },
    peakKb: usage.peakKb,
    // the main process before its first file was queued: no worker had run a lab yet
    beforeFilesKb: files.length ? usage.samples.findLast(({ at }) => at <= firstQueued)?.rssKb : undefined,
    // each worker's V8 heap in use at its files' ends, the largest
    heapsKb: [...heaps.values()].filter(Boolean).map((bytes) => bytes / 1024),
    criticalMs: Math.max(0, ...labs.map(({ criticalMs }) => criticalMs)),
    beforeFilesMs: files.length ? firstQueued - run.launchedAt : 0,
    labs,
    steps: (run.result?.steps ?? []).map(({ file, title, ms }) => ({ name: `${labName(file)}: ${title}`, ms })),
    containers: containers.map(({ name, spec, cpuMs }) => ({
      name: `${spec ? labName(spec) : "setup"}: ${name}`,
      ms: cpuMs,
    })),
  };
}
