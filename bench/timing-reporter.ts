// A vitest reporter for the benchmark (scripts/bench.ts): vitest's JSON reporter gives each step a duration but not
// when it started, and gives a spec file only the span of its steps (no import, no file-scoped fixture teardown).
// This one writes, to the file named by BENCH_TIMINGS, per spec file the wall-clock times at which the main process
// saw it queued, started and ended, vitest's own module diagnostic, and per step its start time and duration
// (epoch milliseconds, the clock the engine's events use too). It prints nothing.
import { writeFileSync } from "node:fs";
import type { Reporter, TestCase, TestModule } from "vitest/node";

interface StepTiming {
  title: string;
  fullName: string;
  state: string;
  startTime: number;
  durationMs: number;
}

interface ModuleTiming {
  moduleId: string;
  queuedAt?: number;
  startedAt?: number;
  endedAt?: number;
  diagnostic?: Record<string, unknown>;
  steps: StepTiming[];
}

export default class TimingReporter implements Reporter {
  private modules = new Map<string, ModuleTiming>();
  private runStartedAt = Date.now();

  private entry(module: TestModule): ModuleTiming {
    let entry = this.modules.get(module.moduleId);
    if (!entry) {
      entry = { moduleId: module.moduleId, steps: [] };
      this.modules.set(module.moduleId, entry);
    }
    return entry;
  }

  onTestRunStart(): void {
    this.runStartedAt = Date.now();
  }

  onTestModuleQueued(module: TestModule): void {
    this.entry(module).queuedAt ??= Date.now();
  }

  onTestModuleStart(module: TestModule): void {
    this.entry(module).startedAt ??= Date.now();
  }

  onTestModuleEnd(module: TestModule): void {
    const entry = this.entry(module);
    entry.endedAt = Date.now();
    const diagnostic: Record<string, unknown> = { ...module.diagnostic() };
    delete diagnostic.importDurations;
    entry.diagnostic = diagnostic;
    entry.steps = [...module.children.allTests()].map((test: TestCase) => {
      const result = test.result();
      const diagnostic = test.diagnostic();
      return {
        title: test.name,
        fullName: test.fullName,
        state: result.state,
        startTime: diagnostic?.startTime ?? 0,
        durationMs: diagnostic?.duration ?? 0,
      };
    });
  }

  onTestRunEnd(): void {
    const file = process.env.BENCH_TIMINGS;
    if (!file) return;
    const report = { runStartedAt: this.runStartedAt, runEndedAt: Date.now(), modules: [...this.modules.values()] };
    writeFileSync(file, JSON.stringify(report, null, 2));
  }
}
