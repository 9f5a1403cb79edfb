// For scripts/engines.ts: every step's outcome, its skip note and its first failure line, with the facts of the
// engine the global setup found, as JSON in the file LABS_MATRIX_OUT names. The labs reporter speaks to people;
// this one to the script that puts several engines' runs side by side.
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { SerializedError } from "vitest";
import type { Reporter, TestCase, TestModule, Vitest } from "vitest/node";
import type { Engine } from "../engine/facts.ts";

export type StepState = "passed" | "failed" | "not applicable";

export interface MatrixStep {
  lab: string;
  title: string;
  state: StepState;
  note?: string;
  failure?: string;
  // What the step annotated as observed (e.g. Lab 3-1's "emulation: yes"), for checks made from outside the run.
  observed: string[];
}

export interface MatrixResult {
  engine?: Engine;
  steps: MatrixStep[];
  errors: string[];
}

const firstLine = (text: string | undefined) => text?.split("\n")[0]?.trim();

function stepOf(lab: string, test: TestCase): MatrixStep {
  const result = test.result();
  const observed = test.annotations().map(({ message }) => message);
  const step = { lab, title: test.name, observed };
  if (result.state === "skipped") return { ...step, state: "not applicable", note: result.note };
  // A step that never ran (the run was cancelled around it) did not pass.
  if (result.state === "passed") return { ...step, state: "passed" };
  const error = result.state === "failed" ? result.errors?.[0] : undefined;
  const failure = error ? firstLine(`${error.name ?? "Error"}: ${error.message}`) : "did not run to the end";
  return { ...step, state: "failed", failure };
}

export default class MatrixReporter implements Reporter {
  private vitest!: Vitest;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): Promise<void> {
    const out = process.env.LABS_MATRIX_OUT;
    if (!out) return;
    const project = this.vitest.projects.find(({ name }) => name === "labs");
    const steps = modules
      .filter((module) => module.project.name === "labs")
      .flatMap((module) => {
        const lab = basename(module.moduleId).replace(/\.spec\.ts$/, "");
        const tests = [...module.children.allTests()].map((test) => stepOf(lab, test));
        // A file that failed to load has no steps to show it: it counts as one failed step of its own.
        const broken = module.errors().map((error) => ({
          lab,
          title: "(the spec file)",
          state: "failed" as const,
          failure: firstLine(error.message),
          observed: [],
        }));
        return [...tests, ...broken];
      });
    const result: MatrixResult = {
      engine: project?.getProvidedContext().engine,
      steps,
      errors: errors.map((error) => firstLine(error.message) ?? "an error outside any step"),
    };
    await writeFile(out, JSON.stringify(result, null, 2));
  }
}
