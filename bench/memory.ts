// Resident memory of a run's process tree, read from /proc every 100 ms. The runner is vitest: its main process (the
// worker threads of pool "threads" live inside it and share its RSS) plus any vitest process it forks (pool "forks").
// The rest of the tree (the teardown guardian, Chromium) is kept apart: it is not the runner's own footprint.
import { readdirSync, readFileSync } from "node:fs";

export const SAMPLE_MS = 100;

export interface Sample {
  at: number;
  runnerKb: number;
  treeKb: number;
}

export class MemorySampler {
  samples: Sample[] = [];
  private timer?: NodeJS.Timeout;

  start(root: number): void {
    this.timer = setInterval(() => this.sample(root), SAMPLE_MS);
    this.sample(root);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  // The largest sum seen in one sample, optionally only among samples taken between from and to (epoch ms).
  peakKb(key: "runnerKb" | "treeKb", from = -Infinity, to = Infinity): number {
    return Math.max(0, ...this.samples.filter(({ at }) => at >= from && at <= to).map((sample) => sample[key]));
  }

  private sample(root: number): void {
    const children = new Map<number, number[]>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = read(`/proc/${entry}/stat`);
      if (!stat) continue;
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    }
    let runnerKb = 0;
    let treeKb = 0;
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.shift()!;
      queue.push(...(children.get(pid) ?? []));
      const rss = Number(read(`/proc/${pid}/status`).match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
      treeKb += rss;
      if (pid === root || read(`/proc/${pid}/cmdline`).includes("vitest")) runnerKb += rss;
    }
    if (treeKb > 0) this.samples.push({ at: Date.now(), runnerKb, treeKb });
  }
}

// "" for a process that ended between listing the tree and reading it.
function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
