// `npm run labs` and `npm test`: per lab, the image it used, then per step the docker command, the outcome, the duration
// and what was observed; the same in reports/<run>/report.md, with the run model (results.json), JUnit XML,
// screenshots and the cAdvisor CPU chart beside it, and reports/latest.txt naming that folder.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { JUnitReporter, type Reporter, type TestCase, type TestModule, type Vitest } from "vitest/node";
import { counts, fileResultOf, firstLine, isLabFile, RESULTS_IN_REPORT, runResultOf } from "./run-results.ts";
import { describeEngine } from "../engine/facts.ts";
import { consoleBlock, LATEST, markdown } from "./lab-report.ts";

const SLOW_STEP_MS = 2_000;

export default class LabsReporter implements Reporter {
  private vitest!: Vitest;
  private timers = new Map<string, NodeJS.Timeout>();

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestCaseReady(test: TestCase): void {
    if (!isLabFile(test.module)) return;
    const timer = setTimeout(() => console.log(`  … still running: ${test.fullName}`), SLOW_STEP_MS);
    this.timers.set(test.id, timer);
  }

  onTestCaseResult(test: TestCase): void {
    clearTimeout(this.timers.get(test.id));
    this.timers.delete(test.id);
  }

  onTestModuleEnd(module: TestModule): void {
    if (!isLabFile(module)) return;
    const { file, steps } = fileResultOf(module, this.vitest.config.root);
    console.log(consoleBlock(file, steps));
  }

  onTestRunEnd: Reporter["onTestRunEnd"] = async (modules, errors, outcome) => {
    const result = runResultOf(modules, errors, outcome, this.vitest.config.root);
    if (!result.runId) return;
    const dir = join("reports", result.runId);
    await mkdir(dir, { recursive: true });
    const header = [
      `Engine: ${result.engine ? describeEngine(result.engine) : "unknown"}`,
      `Steps: ${counts(result.steps)}`,
      ...result.errors.map((error) => `Error outside any step: ${error.name}: ${firstLine(error.message)}`),
    ];
    await writeFile(join(dir, "report.md"), markdown(result, dir, header));
    await writeFile(join(dir, RESULTS_IN_REPORT), JSON.stringify(result, null, 2));

    const junit = new JUnitReporter({ outputFile: join(dir, "junit.xml") });
    await junit.onInit(this.vitest);
    await junit.onTestRunEnd(modules.filter(isLabFile), errors);

    await writeFile(LATEST, `${result.runId}\n`);
    console.log(`\nreport: ${join(dir, "report.md")} (JUnit: ${join(dir, "junit.xml")})`);
    console.log(counts(result.steps));
  };
}
