// The two timed runs: the lab suite under vitest (with its memory sampled and its containers watched) and the same
// labs as bench/labs.sh.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vitestCommand } from "../helpers/self-test/child-run.ts";
import { RUN_LINE } from "../helpers/run/identity.ts";
import { EngineWatch } from "./events.ts";
import { MemorySampler } from "./memory.ts";
import { ROOT, run, type Finished } from "./processes.ts";
import type { Timings } from "./timing.ts";

// The same run on every machine: the local stand-ins, no Ryuk (the suite's guardian cleans up instead), and none of
// a developer's image map or fixed book ports, which would measure other images or fail on a taken port.
const SUITE_ENV = (() => {
  const env: NodeJS.ProcessEnv = { ...process.env, LABS_IMAGES: "local", TESTCONTAINERS_RYUK_DISABLED: "true" };
  delete env.LABS_IMAGE_MAP;
  delete env.LABS_BOOK_PORTS;
  return env;
})();

// The parts of vitest's JSON report the benchmark reads.
export interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { name: string; assertionResults: { title: string; status: string; duration?: number }[] }[];
}

export interface SuiteRun {
  finished: Finished;
  runId?: string;
  report?: JsonReport;
  timings?: Timings;
  memory: MemorySampler;
  watch: EngineWatch;
  leakedVolumes: string[];
}

export async function runSuite(): Promise<SuiteRun> {
  const out = mkdtempSync(join(tmpdir(), "labs-bench-"));
  const memory = new MemorySampler();
  const watch = new EngineWatch();
  try {
    await watch.start();
    const finished = await run(
      process.execPath,
      vitestCommand(
        "--project",
        "labs",
        "--reporter=json",
        "--reporter=./bench/timing-reporter.ts",
        `--outputFile=${join(out, "report.json")}`,
      ),
      { ...SUITE_ENV, BENCH_TIMINGS: join(out, "timings.json") },
      (pid) => memory.start(pid),
      // The watch can only pick out the run's containers once the global setup has printed the run id.
      (stdout) => (watch.runId ??= stdout.match(RUN_LINE)?.[1]),
    );
    memory.stop();
    await watch.stop();
    const leakedVolumes = await watch.removeLeakedVolumes();
    const read = <T>(file: string): T | undefined => {
      try {
        return JSON.parse(readFileSync(join(out, file), "utf8")) as T;
      } catch {
        return undefined;
      }
    };
    const runId = finished.stdout.match(RUN_LINE)?.[1];
    return {
      finished,
      runId,
      report: read("report.json"),
      timings: read("timings.json"),
      memory,
      watch,
      leakedVolumes,
    };
  } finally {
    memory.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

export interface ScriptRun {
  finished: Finished;
  labs: Map<string, number>;
  total?: number;
}

// bench/labs.sh times its own labs ("lab <name> <seconds>", "total <seconds>") from first to last command.
export async function runScript(): Promise<ScriptRun> {
  const finished = await run("bash", [join(ROOT, "bench", "labs.sh")], process.env);
  const labs = new Map<string, number>();
  for (const [, name, seconds] of finished.stdout.matchAll(/^lab (\S+) ([\d.]+)$/gm)) labs.set(name!, Number(seconds));
  const total = finished.stdout.match(/^total ([\d.]+)$/m)?.[1];
  return { finished, labs, total: total === undefined ? undefined : Number(total) };
}
