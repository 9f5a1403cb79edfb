// What a run costs this machine, read from /proc: the runner's memory, and where the machine's busy CPU went while it
// ran. Pool "threads" runs the workers inside vitest's main process, so its RSS is the runner's: the kernel keeps its
// high-water mark (VmHWM), read until the process exits.
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";

const SAMPLE_MS = 100;
// /proc counts CPU time in clock ticks of USER_HZ, 100 on every Linux the labs run on.
const TICK_MS = 10;
const ENGINE_PIDFILE = "/var/run/docker.pid";

export const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

// /proc/<pid>/stat after the command name: state, ppid, …, utime, stime, cutime, cstime at 11–14 (the last two: its
// children's, once reaped).
function statFields(pid: number | string): number[] {
  const stat = read(`/proc/${pid}/stat`);
  return stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
}

const cpuOf = (pid: number | string, withReaped = true) =>
  statFields(pid)
    .slice(11, withReaped ? 15 : 13)
    .reduce((sum, ticks) => sum + (ticks || 0), 0) * TICK_MS;

// /proc/stat's first line: the machine's CPU time per state, summed over cores; idle and iowait are not busy.
export function machineBusyMs(): number {
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = read("/proc/stat")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

// dockerd and its live children (its containerd, the docker-proxy of each published port) with all they reaped: a
// child that ends between two readings moves from its own time into its parent's reaped time, and is counted once.
function engineMs(): number {
  const dockerd = read(ENGINE_PIDFILE).trim();
  if (!dockerd) return NaN;
  const children = readdirSync("/proc").filter((pid) => /^\d+$/.test(pid) && statFields(pid)[1] === Number(dockerd));
  return [dockerd, ...children].reduce((sum, pid) => sum + cpuOf(pid), 0);
}

const status = (pid: number, key: string) =>
  Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(read(`/proc/${pid}/status`))?.[1] ?? 0);

export interface Usage {
  machineMs: number;
  // The child (vitest, bash) and all it started and waited for, Chromium and the docker CLI included.
  childTreeMs: number;
  // Its own process only, worker threads included.
  childOwnMs: number;
  engineMs: number;
  peakKb: number;
  // Resident memory and thread count over time: before the first file is queued, no worker runs a lab.
  samples: { at: number; rssKb: number; threads: number }[];
  load: number;
}

export class Sampler {
  private timer?: NodeJS.Timeout;
  private start = { machine: 0, reaped: 0, engine: 0 };
  private own = 0;
  private peakKb = 0;
  private samples: Usage["samples"] = [];
  private loads: number[] = [];

  begin(pid: number): void {
    this.start = { machine: machineBusyMs(), reaped: cpuOf("self") - cpuOf("self", false), engine: engineMs() };
    const sample = () => {
      const rssKb = status(pid, "VmRSS");
      if (!rssKb) return;
      this.own = cpuOf(pid, false);
      this.peakKb = Math.max(this.peakKb, status(pid, "VmHWM"));
      this.samples.push({ at: Date.now(), rssKb, threads: status(pid, "Threads") });
      this.loads.push(loadavg()[0]!);
    };
    sample();
    this.timer = setInterval(sample, SAMPLE_MS);
  }

  // Once the child has exited and been reaped: its CPU time is then in this process's children's.
  end(): Usage {
    clearInterval(this.timer);
    const reaped = cpuOf("self") - cpuOf("self", false) - this.start.reaped;
    return {
      machineMs: machineBusyMs() - this.start.machine,
      childTreeMs: reaped,
      childOwnMs: Math.min(this.own, reaped),
      engineMs: engineMs() - this.start.engine,
      peakKb: this.peakKb,
      samples: this.samples,
      load: this.loads.reduce((sum, load) => sum + load, 0) / Math.max(1, this.loads.length),
    };
  }
}
