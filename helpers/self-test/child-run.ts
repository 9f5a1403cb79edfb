import { spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { dockerApi } from "../engine/client.ts";
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

export async function engineLeftovers(runId: string): Promise<string[]> {
  return (await resourcesOfRun(await dockerApi(), runId)).map(({ description }) => description);
}
