// The timed runs: a suite run under vitest (its process tree sampled, its containers watched and probed, its spec files
// timed) and the bash baseline. Each is timed from launch to exit, the way a person at a terminal waits for it.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUN_LINE } from "../helpers/run/identity.ts";
import { vitestCommand } from "../helpers/self-test/child-run.ts";
import { EngineWatch, type Seen } from "./engine-watch.ts";
import { ProcessTreeSampler } from "./process-tree.ts";
import type { ModuleTiming } from "./timing-reporter.ts";

const ROOT = join(import.meta.dirname, "..");

// Every machine measures the same thing: the local stand-ins, no Ryuk, none of a developer's image map or book ports.
const ENV: NodeJS.ProcessEnv = { ...process.env, LABS_IMAGES: "local", TESTCONTAINERS_RYUK_DISABLED: "true" };
delete ENV.LABS_IMAGE_MAP;
delete ENV.LABS_BOOK_PORTS;

export interface Finished {
  code: number;
  launchedAt: number;
  exitedAt: number;
  output: string;
}

interface Hooks {
  onPid?: (pid: number) => void;
  onOutput?: (output: string) => void;
}

function launch(command: string, args: string[], env: NodeJS.ProcessEnv, hooks: Hooks = {}): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const launchedAt = Date.now();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      hooks.onOutput?.(output);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    if (child.pid !== undefined) hooks.onPid?.(child.pid);
    // The process's own exit, not the later close of its pipes, is when the person at the terminal gets it back.
    let exitedAt = 0;
    child.on("exit", () => (exitedAt = Date.now()));
    child.on("close", (code) => resolve({ code: code ?? 1, launchedAt, exitedAt: exitedAt || Date.now(), output }));
  });
}

export interface SuiteRun extends Finished {
  runId?: string;
  modules: ModuleTiming[];
  containers: Seen[];
  tree: ProcessTreeSampler;
}

// One vitest run of the labs project; `reporter` is the one the command being measured uses.
export async function runSuite(reporter: string, specs: string[] = []): Promise<SuiteRun> {
  const out = mkdtempSync(join(tmpdir(), "labs-bench-"));
  const tree = new ProcessTreeSampler();
  const watch = new EngineWatch();
  try {
    await watch.start();
    const args = vitestCommand("--project", "labs", `--reporter=${reporter}`, "--reporter=./bench/timing-reporter.ts");
    const env = { ...ENV, BENCH_TIMINGS: join(out, "timings.json"), FORCE_COLOR: "0", NO_COLOR: "1" };
    let runId: string | undefined;
    const finished = await launch(process.execPath, [...args, ...specs], env, {
      onPid: (pid) => tree.start(pid),
      onOutput: (output) => {
        runId ??= output.match(RUN_LINE)?.[1];
        if (runId) watch.follow(runId);
      },
    });
    tree.stop();
    const containers = await watch.stop();
    let modules: ModuleTiming[] = [];
    try {
      modules = JSON.parse(readFileSync(join(out, "timings.json"), "utf8")) as ModuleTiming[];
    } catch {
      // a run that ended before its reporters did: reported as failed by its exit code
    }
    return { ...finished, runId, modules, containers, tree };
  } finally {
    tree.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

// bench/baseline.sh times its own labs ("lab <spec name> <seconds>").
export async function runBaseline(windowMs: number): Promise<Finished & { labs: Map<string, number> }> {
  const env = { ...process.env, BENCH_WINDOW_S: String(windowMs / 1000) };
  const finished = await launch("bash", [join(ROOT, "bench", "baseline.sh")], env);
  const labs = new Map<string, number>();
  for (const [, lab, seconds] of finished.output.matchAll(/^lab (\S+) ([\d.]+)$/gm))
    labs.set(lab!, Number(seconds) * 1000);
  return { ...finished, labs };
}
