// What a run costs this machine, read from /proc: the runner's memory and where the machine's busy CPU went. Pool
// "threads" runs the workers inside vitest's main process, so its RSS is the runner's; the kernel keeps its high-water
// mark (VmHWM), read until the process exits. CPU times are in clock ticks of USER_HZ, 100 on every Linux here.
import { readdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { loadavg } from "node:os";

const [SAMPLE_MS, TICK_MS] = [100, 10];

export const read = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

// /proc/<pid>/stat after the command name: ppid at 1; utime, stime, and the children's once reaped, at 11–14.
function stat(pid: number | string): number[] {
  const text = read(`/proc/${pid}/stat`);
  return text
    .slice(text.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number);
}
const cpuMs = (pid: number | string, reaped = true) =>
  stat(pid)
    .slice(11, reaped ? 15 : 13)
    .reduce((sum, ticks) => sum + (ticks || 0), 0) * TICK_MS;

// The machine's CPU time summed over cores, idle and iowait left out.
export function machineBusyMs(): number {
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = read("/proc/stat")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

// dockerd (its pid file beside its socket) and its live children (containerd, each published port's docker-proxy) with
// all they reaped: a child that ends between two readings moves into its parent's reaped time, counted once.
function engineMs(socket: string): number {
  const dockerd = Number(read(`${dirname(socket)}/docker.pid`));
  if (!dockerd) return NaN;
  const children = readdirSync("/proc").filter((pid) => /^\d+$/.test(pid) && stat(pid)[1] === dockerd);
  return [String(dockerd), ...children].reduce((sum, pid) => sum + cpuMs(pid), 0);
}

const status = (pid: number, key: string) =>
  Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(read(`/proc/${pid}/status`))?.[1] ?? 0);

export interface Usage {
  machineMs: number;
  childTreeMs: number; // the child and all it started and waited for: Chromium, the docker CLI
  childOwnMs: number; // its own process, worker threads included
  engineMs: number;
  peakKb: number;
  samples: { at: number; rssKb: number }[];
  load: number;
}

export class Sampler {
  private timer?: NodeJS.Timeout;
  private start = { machine: 0, reaped: 0, engine: 0 };
  private usage = { own: 0, peakKb: 0, samples: [] as Usage["samples"], loads: [] as number[] };
  private readonly engineSocket: string;
  constructor(engineSocket = "") {
    this.engineSocket = engineSocket;
  }

  begin(pid: number): void {
    this.start = { machine: machineBusyMs(), reaped: cpuMs("self") - cpuMs("self", false), engine: 0 };
    this.start.engine = engineMs(this.engineSocket);
    const sample = () => {
      const rssKb = status(pid, "VmRSS");
      if (!rssKb) return;
      this.usage.own = cpuMs(pid, false);
      this.usage.peakKb = Math.max(this.usage.peakKb, status(pid, "VmHWM"));
      this.usage.samples.push({ at: Date.now(), rssKb });
      this.usage.loads.push(loadavg()[0]!);
    };
    sample();
    this.timer = setInterval(sample, SAMPLE_MS);
  }

  // Once the child has exited and been reaped: its CPU time is then in this process's children's.
  end(): Usage {
    clearInterval(this.timer);
    const { own, peakKb, samples, loads } = this.usage;
    const reaped = cpuMs("self") - cpuMs("self", false) - this.start.reaped;
    return {
      machineMs: machineBusyMs() - this.start.machine,
      childTreeMs: reaped,
      childOwnMs: Math.min(own, reaped),
      engineMs: engineMs(this.engineSocket) - this.start.engine,
      peakKb,
      samples,
      load: loads.reduce((sum, load) => sum + load, 0) / Math.max(1, loads.length),
    };
  }
}
