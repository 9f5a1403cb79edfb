// The one writer of a run's results for another process: the run model as JSON in the file LABS_RESULTS_FILE names,
// with when the runner saw each spec file queued, started and ended (the bench lines these up with engine events).
import { writeFile } from "node:fs/promises";
import { relative } from "node:path";
import type { Reporter, TestModule, Vitest } from "vitest/node";
import { runResultOf, type SpecFile } from "./run-results.ts";

type FileTimes = NonNullable<SpecFile["times"]>;

export const RESULTS_FILE_VARIABLE = "LABS_RESULTS_FILE";

export default class ResultsReporter implements Reporter {
  private root = "";
  private times = new Map<string, FileTimes>();

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
  }

  private timesOf(module: TestModule): FileTimes {
    const file = relative(this.root, module.moduleId);
    if (!this.times.has(file)) this.times.set(file, { queuedAt: Date.now() });
    return this.times.get(file)!;
  }

  onTestModuleQueued = (module: TestModule) => void this.timesOf(module);
  onTestModuleStart = (module: TestModule) => void (this.timesOf(module).startedAt ??= Date.now());
  onTestModuleEnd = (module: TestModule) => {
    const { concurrencyId: worker, heap } = module.diagnostic();
    Object.assign(this.timesOf(module), { endedAt: Date.now(), worker, ...(heap && { heapBytes: heap }) });
  };

  onTestRunEnd: Reporter["onTestRunEnd"] = async (modules, errors, outcome) => {
    const out = process.env[RESULTS_FILE_VARIABLE];
    if (!out) return;
    const result = runResultOf(modules, errors, outcome, this.root);
    for (const file of result.files) file.times = this.times.get(file.file);
    await writeFile(out, JSON.stringify(result, null, 2));
  };
}
