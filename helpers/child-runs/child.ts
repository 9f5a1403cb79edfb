import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { dockerApi } from "../engine/client.ts";
import { dockerApiAt } from "../engine/hosts.ts";
import { resourcesOfRun } from "../run/ownership.ts";
import { pollUntil } from "../util/poll.ts";

export const ROOT = join(import.meta.dirname, "..", "..");

export type ChildRun = ReturnType<typeof startChild>;

export interface ChildOptions {
  env?: NodeJS.ProcessEnv; // over this process's own; a variable set to undefined is left out
  program?: string; // this Node unless named
  ownGroup?: boolean; // its own process group, as a terminal or CI starts it (the default); else ours
  echo?: boolean; // its output passes through to ours as well
  signal?: AbortSignal; // ends it with SIGTERM
}

// A run of the suite (or of any of its commands) from the repository's root, without colour.
export function startChild(command: string[], options: ChildOptions = {}) {
  const { env = {}, program = process.execPath, ownGroup = true, echo = false, signal } = options;
  const launchedAt = Date.now();
  const child = spawn(program, command, {
    cwd: ROOT,
    detached: ownGroup,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...env },
    ...(signal ? { signal, killSignal: "SIGTERM" as const } : {}),
  });
  child.on("error", () => undefined); // an abort, or a program that is not there: the exit below still comes
  let [out, err] = ["", ""];
  child.stdout.on("data", (chunk: Buffer) => ((out += chunk.toString()), echo && process.stdout.write(chunk)));
  child.stderr.on("data", (chunk: Buffer) => ((err += chunk.toString()), echo && process.stderr.write(chunk)));
  // Epoch ms when the process exited: what a person at a terminal waits for.
  let exitedAt = 0;
  child.on("exit", () => (exitedAt = Date.now()));
  // Closed, not only exited: all it printed has been read.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; exitedAt: number }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, exitedAt: exitedAt || Date.now() })),
  );
  return {
    pid: child.pid ?? 0,
    launchedAt,
    output: () => out + err, // stdout, then stderr: a run's last lines say why it ended
    stderr: () => err,
    exited,
    async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
      const found = () => (out + err).match(pattern) ?? (child.exitCode === null ? undefined : null);
      const match = await pollUntil(found, { timeoutMs });
      if (match) return match;
      throw new Error(`the child run never printed ${pattern} (exit ${child.exitCode}):\n${(out + err).slice(-2000)}`);
    },
  };
}

export const VITEST = "node_modules/vitest/vitest.mjs";
export const vitestCommand = (...args: string[]) => [VITEST, "run", ...args];

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

// The guardian names its run on its command line; 0 once it has exited, and so done all it will do.
export async function guardianPid(runId: string): Promise<number> {
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes("guardian.ts") && cmdline.includes(runId)) return Number(pid);
  }
  return 0;
}
