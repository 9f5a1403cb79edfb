// A vitest reporter for the bench: when the main process saw each spec file queued, started and ended (epoch ms, the
// clock the engine's events use too), written to the file BENCH_TIMINGS names. vitest's own reports give a file only
// the span of its steps, without its imports and the teardown of its file-scoped fixtures.
import { writeFileSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

export interface ModuleTiming {
  moduleId: string;
  queuedAt: number;
  startedAt?: number;
  endedAt?: number;
  failed?: boolean;
}

export default class TimingReporter implements Reporter {
  private modules = new Map<string, ModuleTiming>();

  private entry(module: TestModule): ModuleTiming {
    let entry = this.modules.get(module.moduleId);
    if (!entry) {
      entry = { moduleId: module.moduleId, queuedAt: Date.now() };
      this.modules.set(module.moduleId, entry);
    }
    return entry;
  }

  onTestModuleQueued(module: TestModule): void {
    this.entry(module);
  }

  onTestModuleStart(module: TestModule): void {
    this.entry(module).startedAt ??= Date.now();
  }

  onTestModuleEnd(module: TestModule): void {
    const entry = this.entry(module);
    entry.endedAt = Date.now();
    entry.failed = !module.ok();
  }

  onTestRunEnd(): void {
    if (process.env.BENCH_TIMINGS) writeFileSync(process.env.BENCH_TIMINGS, JSON.stringify([...this.modules.values()]));
  }
}
