import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, realpathSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { dockerApi } from "../engine/client.ts";
import { dockerApiAt } from "../engine/hosts.ts";
import { resourcesOfRun } from "../run/ownership.ts";

export interface ChildRun {
  pid: number;
  output: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
}

// A run of the suite (or of any of its commands) in its own process group, the way a terminal or CI starts it.
export function startChildRun(command: string[], env: NodeJS.ProcessEnv = {}): ChildRun {
  const child = spawn(process.execPath, command, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...env },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = once(child, "exit").then(
    ([code, signal]) => ({ code, signal }) as { code: number | null; signal: NodeJS.Signals | null },
  );
  return {
    pid: child.pid!,
    output: () => out + err,
    stderr: () => err,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = (out + err).match(pattern);
        if (match) return match;
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `the child run never printed ${pattern} (exit ${child.exitCode}):\n${(out + err).slice(-2000)}`,
          );
        }
        await sleep(100);
      }
    },
  };
}

export const vitestCommand = (...args: string[]) => ["node_modules/vitest/vitest.mjs", "run", ...args];

// `npm …` exactly as a user types it, run by this Node: npm's own CLI script, wherever npm is installed.
export function npmCommand(...args: string[]): string[] {
  const onPath = (process.env.PATH ?? "").split(":").map((dir) => join(dir, "npm"));
  const cli =
    process.env.npm_execpath ?? onPath.filter((file) => existsSync(file)).map((file) => realpathSync(file))[0];
  if (!cli) throw new Error("npm is not on PATH");
  return [cli, ...args];
}

export async function engineLeftovers(runId: string, host?: string): Promise<string[]> {
  const docker = host ? dockerApiAt(host) : await dockerApi();
  return (await resourcesOfRun(docker, runId)).map(({ description }) => description);
}

// The guardian names its run on its command line.
export async function guardianPid(runId: string): Promise<number> {
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("guardian.ts") && cmdline.includes(runId)) return Number(pid);
  }
  return 0;
}

// Once the guardian has exited, it has done all it will do.
export async function guardianExited(runId: string): Promise<boolean> {
  return (await guardianPid(runId)) === 0;
}
