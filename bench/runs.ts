// The timed runs, each from launch to exit as a person at a terminal waits for it, with what it cost the machine: the
// labs under vitest (read back through the one run model, their containers watched and probed), vitest's own empty
// run, and the bash baseline.
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChild, vitestCommand, type ChildOptions } from "../helpers/child-runs/child.ts";
import { dockerApi } from "../helpers/engine/client.ts";
import { LABS_REPORTER, runLabs } from "../helpers/child-runs/run-labs.ts";
import type { RunResult } from "../helpers/vitest/run-results.ts";
import { watchEngine, type Seen } from "./engine-watch.ts";
import { sample, type Usage } from "./sampler.ts";

export interface Timed {
  ok: boolean;
  why: string; // the last lines of a run that failed
  launchedAt: number;
  exitedAt: number;
  usage: Usage;
}

export interface SuiteRun extends Timed {
  result: RunResult;
  containers: Seen[];
}

const tail = (output: string) => output.trimEnd().split("\n").slice(-30).join("\n");

// Every machine measures the same thing: the local stand-ins, no Ryuk, none of a developer's image map or book ports.
const ENV = { LABS_IMAGES: "local", TESTCONTAINERS_RYUK_DISABLED: "true", LABS_IMAGE_MAP: undefined };

// The engine's socket, where its pid file is found beside it.
const engineSocket = async () => ((await dockerApi()).modem as { socketPath?: string }).socketPath;

export async function runSuite(files: string[] = []): Promise<SuiteRun> {
  const [socket, watch] = [await engineSocket(), await watchEngine()];
  let sampled: (() => Usage) | undefined; // set as the child starts, before runLabs resolves
  const run = await runLabs({
    files,
    args: ["--logHeapUsage"],
    reporters: ["verbose", LABS_REPORTER],
    env: { ...ENV, LABS_BOOK_PORTS: undefined },
    onStart: (child) => (watch.follow(child.pid), (sampled = sample(child.pid, socket))),
  });
  const [{ exitCode, output, launchedAt, exitedAt, result }, usage] = [run, sampled!()];
  const ok = exitCode === 0 && result.files.length > 0;
  return { ok, why: tail(output), launchedAt, exitedAt, usage, result, containers: await watch.stop(result.runId) };
}

async function runTimed(command: string[], options: ChildOptions): Promise<Timed> {
  const socket = await engineSocket();
  const child = startChild(command, { ...options, ownGroup: false });
  const used = sample(child.pid, socket);
  const { code, exitedAt } = await child.exited;
  return { ok: code === 0, why: tail(child.output()), launchedAt: child.launchedAt, exitedAt, usage: used() };
}

// vitest's own floor: two trivial spec files in a throwaway project, on the labs project's pool and worker count. With
// `stack`, the floor of the suite's stack: its global setup asks testcontainers for its engine client (as the labs'
// does) and both files import testcontainers, as every lab's worker does.
function emptyProject(stack: boolean): Record<string, string> {
  const setup = stack ? { globalSetup: ["./setup.mjs"] } : {};
  const config = { test: { globals: true, pool: "threads", isolate: false, maxWorkers: 2, ...setup } };
  const spec = (name: string) =>
    stack
      ? `import { GenericContainer } from "testcontainers";\ntest("${name}", () => expect(GenericContainer).toBeDefined());\n`
      : `test("${name}", () => {});\n`;
  const client = `import { getContainerRuntimeClient } from "testcontainers";\nexport default () => getContainerRuntimeClient().then(() => undefined);\n`;
  return {
    "vitest.config.mjs": `export default ${JSON.stringify(config)};\n`,
    "one.spec.ts": spec("one"),
    "two.spec.ts": spec("two"),
    ...(stack ? { "setup.mjs": client } : {}),
  };
}

export async function runEmpty(stack = false): Promise<Timed> {
  const root = await mkdtemp(join(tmpdir(), "labs-bench-empty-"));
  try {
    for (const [file, text] of Object.entries(emptyProject(stack))) await writeFile(join(root, file), text);
    // Node finds testcontainers from the throwaway project through this project's node_modules.
    if (stack) await symlink(join(process.cwd(), "node_modules"), join(root, "node_modules"), "junction");
    return await runTimed(vitestCommand("--root", root), {});
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

// bench/baseline.sh: the same checks of the service labs, as a plain bash script; BENCH_WINDOW_S is Lab 3-2's window.
export const runBaseline = (windowMs: number) =>
  runTimed(["bench/baseline.sh"], { program: "bash", env: { BENCH_WINDOW_S: String(windowMs / 1000) } });
