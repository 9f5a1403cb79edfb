// What a run costs this machine, read from /proc: the runner's memory and where the machine's busy CPU went. Pool
// "threads" runs the workers inside vitest's main process, so its RSS is the runner's; the kernel keeps its high-water
// mark (VmHWM), read until the process exits. CPU times are in clock ticks of USER_HZ, 100 on every Linux here. Node's
// own process.resourceUsage() and os.cpus() do not serve: the one is this process's, not the child's tree, and the
// other leaves softirq and steal out.
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

const sum = (values: number[]) => values.reduce((total, value) => total + (value || 0), 0);

// /proc/<pid>/stat after the command name: ppid at 1; utime, stime at 11–12, and the children's once reaped at 13–14.
function stat(pid: number | string): number[] {
  const text = read(`/proc/${pid}/stat`);
  const afterName = text.slice(text.lastIndexOf(")") + 2);
  return afterName.split(" ").map(Number);
}
const ticksMs = (pid: number | string, from: number, to: number) => sum(stat(pid).slice(from, to)) * TICK_MS;
const ownMs = (pid: number) => ticksMs(pid, 11, 13);
const reapedMs = () => ticksMs("self", 13, 15);

// The machine's CPU time summed over cores, idle and iowait left out.
export function machineBusyMs(): number {
  const cores = /^cpu +(.*)/.exec(read("/proc/stat"))?.[1] ?? "";
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cores.split(" ").map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

// dockerd (its pid file beside its socket) and its live children (containerd, each published port's docker-proxy) with
// all they reaped: a child that ends between two readings moves into its parent's reaped time, counted once.
function engineMs(socket: string): number {
  const dockerd = Number(read(`${dirname(socket)}/docker.pid`));
  if (!dockerd) return NaN;
  const children = readdirSync("/proc").filter((pid) => /^\d+$/.test(pid) && stat(pid)[1] === dockerd);
  return sum([String(dockerd), ...children].map((pid) => ticksMs(pid, 11, 15)));
}

const status = (pid: number, key: string) =>
  Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(read(`/proc/${pid}/status`))?.[1] ?? 0);

export type Usage = ReturnType<ReturnType<typeof sample>>;

// Samples the child `pid` from now on; the function returned ends the sampling and says what the run used.
export function sample(pid: number, engineSocket = "") {
  const start = { machine: machineBusyMs(), reaped: reapedMs(), engine: engineMs(engineSocket) };
  let [own, peakKb] = [0, 0];
  const [samples, loads] = [[] as { at: number; rssKb: number }[], [] as number[]];
  const tick = () => {
    const rssKb = status(pid, "VmRSS");
    if (!rssKb) return;
    own = ownMs(pid);
    peakKb = Math.max(peakKb, status(pid, "VmHWM"));
    samples.push({ at: Date.now(), rssKb });
    loads.push(loadavg()[0]!);
  };
  tick();
  const timer = setInterval(tick, SAMPLE_MS);

  // Once the child has exited and been reaped: its CPU time is then in this process's children's.
  return () => {
    clearInterval(timer);
    const reaped = reapedMs() - start.reaped;
    return {
      machineMs: machineBusyMs() - start.machine,
      childTreeMs: reaped, // the child and all it started and waited for: Chromium, the docker CLI
      childOwnMs: Math.min(own, reaped), // its own process, worker threads included
      engineMs: engineMs(engineSocket) - start.engine,
      peakKb,
      samples,
      load: sum(loads) / Math.max(1, loads.length),
    };
  };
}
