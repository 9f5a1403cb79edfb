// `npm run labs` and `npm test`: per lab, the image it used, then per step the docker command, the outcome, the duration and what
// was observed; the same in reports/<run>/report.md, with JUnit XML, screenshots and the cAdvisor CPU chart beside it,
// and reports/latest.txt naming that folder.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SerializedError } from "vitest";
import { JUnitReporter, type Reporter, type TestCase, type TestModule, type Vitest } from "vitest/node";
import { describeEngine } from "../engine/facts.ts";
import { consoleBlock, LATEST, labOf, markdown } from "./lab-report.ts";

const SLOW_STEP_MS = 2_000;

export default class LabsReporter implements Reporter {
  private vitest!: Vitest;
  private timers = new Map<string, NodeJS.Timeout>();

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestCaseReady(test: TestCase): void {
    if (test.project.name !== "labs") return;
    const timer = setTimeout(() => console.log(`  … still running: ${test.fullName}`), SLOW_STEP_MS);
    this.timers.set(test.id, timer);
  }

  onTestCaseResult(test: TestCase): void {
    clearTimeout(this.timers.get(test.id));
    this.timers.delete(test.id);
  }

  onTestModuleEnd(module: TestModule): void {
    if (module.project.name !== "labs") return;
    console.log(consoleBlock(labOf(module, this.vitest.config.root)));
  }

  async onTestRunEnd(everyModule: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): Promise<void> {
    const project = this.vitest.projects.find(({ name }) => name === "labs");
    const context = project?.getProvidedContext();
    if (!context?.runId) return;
    const modules = everyModule.filter((module) => module.project.name === "labs");
    const dir = join("reports", context.runId);
    await mkdir(dir, { recursive: true });

    const labs = modules.map((module) => labOf(module, this.vitest.config.root));
    const steps = labs.flatMap(({ steps }) => steps);
    const count = (state: string) => steps.filter((step) => step.state === state).length;
    const header = [
      `Engine: ${describeEngine(context.engine)}`,
      `Steps: ${count("passed")} passed, ${count("failed")} failed, ${count("not applicable")} not applicable`,
      ...errors.map((error) => `Error outside any step: ${error.message}`),
    ];
    await writeFile(join(dir, "report.md"), markdown(labs, context.runId, dir, header));

    const junit = new JUnitReporter({ outputFile: join(dir, "junit.xml") });
    await junit.onInit(this.vitest);
    await junit.onTestRunEnd(modules, errors);

    await writeFile(LATEST, `${context.runId}\n`);
    console.log(`\nreport: ${join(dir, "report.md")} (JUnit: ${join(dir, "junit.xml")})`);
    console.log(`${count("passed")} passed, ${count("failed")} failed, ${count("not applicable")} skipped`);
  }
}
