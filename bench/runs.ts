// The timed runs: a suite run under vitest (its process tree sampled, its containers watched and probed, its spec files
// timed) and the bash baseline. Each is timed from launch to exit, the way a person at a terminal waits for it.
import { startChild } from "../helpers/child-runs/child.ts";
import { runLabs, type LabsRun } from "../helpers/child-runs/run-labs.ts";
import type { SpecFile } from "../helpers/vitest/run-results.ts";
import { RUN_LINE } from "../helpers/run/identity.ts";
import { EngineWatch, type Seen } from "./engine-watch.ts";
import { ProcessTreeSampler } from "./process-tree.ts";

// Every machine measures the same thing: the local stand-ins, no Ryuk, none of a developer's image map or book ports.
const ENV = { LABS_IMAGES: "local", TESTCONTAINERS_RYUK_DISABLED: "true", LABS_IMAGE_MAP: undefined };

export type Finished = Pick<LabsRun, "exitCode" | "launchedAt" | "exitedAt" | "output">;
export type SpecTiming = NonNullable<SpecFile["times"]> & { file: string };

export interface SuiteRun extends Finished {
  runId?: string;
  modules: SpecTiming[];
  containers: Seen[];
  tree: ProcessTreeSampler;
}

// One vitest run of the labs project; `reporter` is the one the command being measured uses.
export async function runSuite(reporter: string, specs: string[] = []): Promise<SuiteRun> {
  const [tree, watch] = [new ProcessTreeSampler(), new EngineWatch()];
  let runId: string | undefined;
  try {
    await watch.start();
    const run = await runLabs({
      files: specs,
      env: { ...ENV, LABS_BOOK_PORTS: undefined },
      reporters: [reporter],
      onStart: (child) => {
        tree.start(child.pid);
        // No run id: the run stopped in its setup, and its exit code says so.
        void child.waitFor(RUN_LINE, Infinity).then(
          ([, id]) => watch.follow((runId = id!)),
          () => undefined,
        );
      },
    });
    tree.stop();
    // A run that ended before its reporters did has no files: reported as failed by its exit code.
    const modules = run.result.files.flatMap(({ file, times }) => (times ? [{ file, ...times }] : []));
    return { ...run, runId, modules, containers: await watch.stop(), tree };
  } finally {
    tree.stop();
  }
}

// bench/baseline.sh times its own labs ("lab <spec name> <seconds>").
export async function runBaseline(windowMs: number): Promise<Finished & { labs: Map<string, number> }> {
  const env = { BENCH_WINDOW_S: String(windowMs / 1000) };
  const child = startChild(["bench/baseline.sh"], { program: "bash", ownGroup: false, env });
  const { code: exitCode, exitedAt } = await child.exited;
  const output = child.output();
  const labs = new Map<string, number>();
  for (const [, lab, seconds] of output.matchAll(/^lab (\S+) ([\d.]+)$/gm)) labs.set(lab!, Number(seconds) * 1000);
  return { exitCode, launchedAt: child.launchedAt, exitedAt, output, labs };
}
