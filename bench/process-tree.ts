// The runner's footprint, read from /proc every 100 ms: resident memory and CPU time of vitest's main process (the
// worker threads of pool "threads" live inside it and share its RSS) plus any vitest process it forks (pool "forks").
// The rest of the tree (the teardown guardian, Chromium) is kept apart: it is not the runner's own. CPU time is the
// figure the shared engine's noise barely moves: on a loaded 2-core machine wall times stretch, CPU seconds do not.
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";

export const SAMPLE_MS = 100;
// /proc/<pid>/stat counts CPU time in clock ticks of USER_HZ, 100 on every Linux the labs run on.
const TICK_MS = 10;

export interface Sample {
  at: number;
  runnerKb: number;
  treeKb: number;
  runnerCpuMs: number;
  load: number;
}

export class ProcessTreeSampler {
  samples: Sample[] = [];
  // Every process on the machine between start and stop, the engine's gzip, the containers and other tenants
  // included: what no schedule of the run's work on these cores can go below.
  machineBusyMs = 0;
  private busyAtStart = 0;
  private timer?: NodeJS.Timeout;

  start(root: number): void {
    this.busyAtStart = machineBusySinceBoot();
    this.timer = setInterval(() => this.sample(root), SAMPLE_MS);
    this.sample(root);
  }

  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.machineBusyMs = machineBusySinceBoot() - this.busyAtStart;
  }

  // The largest value seen in one sample, optionally only among samples taken between from and to (epoch ms).
  peak(key: Exclude<keyof Sample, "at">, from = -Infinity, to = Infinity): number {
    return Math.max(0, ...this.samples.filter(({ at }) => at >= from && at <= to).map((sample) => sample[key]));
  }

  private sample(root: number): void {
    const children = new Map<number, number[]>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const ppid = Number(statFields(Number(entry))[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    }
    const sample = { at: Date.now(), runnerKb: 0, treeKb: 0, runnerCpuMs: 0, load: loadavg()[0]! };
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.shift()!;
      queue.push(...(children.get(pid) ?? []));
      const rss = Number(read(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
      sample.treeKb += rss;
      if (pid !== root && !read(`/proc/${pid}/cmdline`).includes("vitest")) continue;
      const [utime = 0, stime = 0] = statFields(pid).slice(11, 13).map(Number);
      sample.runnerKb += rss;
      sample.runnerCpuMs += (utime + stime) * TICK_MS;
    }
    if (sample.treeKb > 0) this.samples.push(sample);
  }
}

// /proc/stat's first line: the machine's CPU time per state, summed over cores; idle and iowait are not busy.
function machineBusySinceBoot(): number {
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = read("/proc/stat")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

// The fields of /proc/<pid>/stat after the command name (which may hold spaces): state, ppid, …, utime, stime at
// 11 and 12.
function statFields(pid: number): string[] {
  const stat = read(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

// "" for a process that ended between listing the tree and reading it.
function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
