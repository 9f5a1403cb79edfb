// Peak resident memory of the test process tree, read from /proc every 100 ms. The runner is vitest: its main
// process (with the worker threads of pool "threads" inside it) and any processes it forks (pool "forks": a worker
// per spec file, its watchdog). Other node processes in the tree are helpers the suite spawns (the teardown
// guardian); anything else is not node (Chromium for the browser steps).
// A peak of a sum is the largest sum seen in one sample; summed RSS counts pages shared between processes once per
// process, so the sums are upper bounds.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { basename } from "node:path";

export const SAMPLE_MS = 100;

export class MemorySampler {
  peak = { main: 0, runner: 0, helpers: 0, tree: 0 };
  peakForks = 0;
  helperNames = new Set<string>();
  samples = 0;
  private timer?: NodeJS.Timeout;
  private readonly nodeExe = readlinkSync("/proc/self/exe");

  start(root: number): void {
    this.timer = setInterval(() => this.sample(root), SAMPLE_MS);
    this.sample(root);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(root: number): void {
    const children = new Map<number, number[]>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const list = children.get(ppid) ?? [];
        list.push(Number(entry));
        children.set(ppid, list);
      } catch {
        // the process ended while the tree was read
      }
    }
    const sum = { main: 0, runner: 0, helpers: 0, tree: 0 };
    let forks = 0;
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.shift()!;
      queue.push(...(children.get(pid) ?? []));
      const rss = rssKb(pid);
      sum.tree += rss;
      if (pid === root) {
        sum.main += rss;
        sum.runner += rss;
      } else if (exeOf(pid) === this.nodeExe) {
        const command = cmdlineOf(pid);
        if (command.includes("vitest")) {
          sum.runner += rss;
          forks++;
        } else {
          sum.helpers += rss;
          const script = command.split("\0").find((arg) => /\.(ts|js|mjs)$/.test(arg));
          this.helperNames.add(script ? basename(script) : "node");
        }
      }
    }
    this.samples++;
    for (const key of Object.keys(sum) as (keyof typeof sum)[]) this.peak[key] = Math.max(this.peak[key], sum[key]);
    this.peakForks = Math.max(this.peakForks, forks);
  }
}

// The /proc readers answer "nothing" for a process that ended between listing the tree and reading it.

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

function rssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
