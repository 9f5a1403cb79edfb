import type { SerializedError } from "vitest";
import type { TestModule, TestProject } from "vitest/node";
import { exitCauses, firstLine, runResultOf } from "./run-results.ts";

const SIGNALS: Record<number, string> = { 130: "SIGINT", 143: "SIGTERM" };

// vitest exits 1 for more than a failed step, some of it after the last reporter has spoken: an error outside any
// step (a worker's unhandled rejection, a reporter that threw), a spec file's hook or file-scoped fixture, the global
// setup's teardown (the audit), a rejection in this process. Whatever it was, the run's last lines say so, one line
// a cause, printed as the process exits; a run that exits 0 prints nothing more.
export function explainExit({ vitest, name }: TestProject) {
  const late: string[] = [];
  const stacks: string[] = [];
  let cancelled: string | undefined;
  let teardown: "to come" | "running" | "done" = "to come";
  const inThisProcess = (what: string) => (error: unknown) => {
    const { name = "Error", message = String(error), stack } = error instanceof Error ? error : {};
    late.push(`${what} in the runner's own process: ${name}: ${firstLine(message)}`);
    if (stack) stacks.push(stack);
    process.exitCode = 1;
  };
  process.prependListener("unhandledRejection", inThisProcess("an unhandled rejection"));
  process.on("uncaughtExceptionMonitor", inThisProcess("an uncaught exception"));
  process.on("exit", (code) => {
    if (teardown === "running") {
      late.push(`teardown: unfinished after ${vitest.config.teardownTimeout} ms, so the audit never reported`);
      code ||= process.exitCode = 1;
    }
    if (!code) return;
    const errors = vitest.state.getUnhandledErrors() as SerializedError[];
    const signal = SIGNALS[code];
    const outcome = cancelled || signal ? "interrupted" : "failed";
    const ofLabs = (module: TestModule) => module.project.name === name;
    const result = runResultOf(vitest.state.getTestModules(), errors, outcome, vitest.config.root, ofLabs);
    const causes = [...exitCauses(result, cancelled ?? (signal && `${signal} reached the runner`)), ...late];
    for (const stack of [...result.errors.flatMap(({ stack }) => stack ?? []), ...stacks]) console.error(stack);
    for (const cause of causes.length ? causes : ["vitest gave no cause this run knows of; see the lines above"]) {
      console.error(`exit ${code}: ${cause}`);
    }
  });
  return {
    cancelled: (because: string) => void (cancelled ??= because),
    async teardown(work: () => Promise<void>) {
      teardown = "running";
      try {
        await work();
      } catch (error) {
        for (const line of String((error as Error).message).split("\n")) late.push(`teardown: ${line}`);
        throw error;
      } finally {
        teardown = "done";
      }
    },
  };
}
