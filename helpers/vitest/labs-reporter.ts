// `npm run labs`: per lab, the image it used, then per step the docker command, the outcome, the duration and what
// was observed; the same in reports/<run>/report.md, with JUnit XML, screenshots and the cAdvisor CPU chart beside it.
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import type { SerializedError } from "vitest";
import { JUnitReporter, type Reporter, type TestCase, type TestModule, type Vitest } from "vitest/node";

const SLOW_STEP_MS = 2_000;
// Specs annotate a file they kept in the run's report folder with this type (see helpers/evidence.ts).
const EVIDENCE = "evidence";

interface Step {
  title: string;
  state: string;
  durationMs: number;
  evidence: string[];
  files: string[];
  failure?: string;
  logs: { container: string; lines: string[] }[];
}

interface Lab {
  title: string;
  file: string;
  images: string[];
  steps: Step[];
}

function stepOf(test: TestCase): Step {
  const result = test.result();
  const annotations = test.annotations();
  const failure = result.state === "failed" ? result.errors?.[0] : undefined;
  const location = failure?.stacks?.[0];
  return {
    title: test.name,
    state: result.state === "skipped" ? `not applicable` : result.state,
    durationMs: Math.round(test.diagnostic()?.duration ?? 0),
    evidence: [
      ...annotations.filter(({ type }) => type !== EVIDENCE).map(({ message }) => message),
      ...(result.state === "skipped" && result.note ? [result.note] : []),
    ],
    files: annotations.filter(({ type }) => type === EVIDENCE).map(({ message }) => message),
    failure: failure
      ? `${failure.name ?? "Error"}: ${failure.message}${location ? ` (at ${location.file}:${location.line})` : ""}`
      : undefined,
    logs: test.meta().containerLogs ?? [],
  };
}

function labOf(module: TestModule, root: string): Lab {
  const tests = [...module.children.allTests()];
  const title = tests[0]?.fullName.split(" > ")[0] ?? basename(module.moduleId);
  return {
    title,
    file: relative(root, module.moduleId),
    images: module.meta().labImages ?? [],
    steps: tests.map(stepOf),
  };
}

const MARK: Record<string, string> = { passed: "✓", failed: "✗", "not applicable": "–", pending: "…" };

function consoleBlock(lab: Lab): string {
  const lines = [`\n${lab.title}  (${lab.file})`, ...lab.images.map((image) => `  image ${image}`)];
  for (const step of lab.steps) {
    lines.push(
      `  ${MARK[step.state] ?? "?"} ${step.title}  ${step.state === "passed" ? `${step.durationMs} ms` : step.state}`,
    );
    lines.push(...step.evidence.map((line) => `      ${line}`), ...step.files.map((file) => `      kept ${file}`));
    if (step.failure) lines.push(`      ${step.failure}`);
    for (const { container, lines: logLines } of step.logs) {
      lines.push(`      last log lines of ${container}:`, ...logLines.map((line) => `        ${line}`));
    }
  }
  return lines.join("\n");
}

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

function markdown(labs: Lab[], runId: string, dir: string, header: string[]): string {
  const out = [`# container-labs report: run ${runId}`, "", ...header.map((line) => `- ${line}`), ""];
  for (const lab of labs) {
    out.push(`## ${lab.title}`, "", `Spec: \`${lab.file}\``, "", ...lab.images.map((image) => `- image ${image}`), "");
    out.push("| Step (docker CLI) | Result | Duration | Observed |", "| --- | --- | --- | --- |");
    for (const step of lab.steps) {
      const observed = [...step.evidence, ...(step.failure ? [step.failure] : [])].map(cell).join("<br>");
      out.push(`| \`${cell(step.title)}\` | ${step.state} | ${step.durationMs} ms | ${observed} |`);
    }
    out.push("");
    for (const step of lab.steps) {
      for (const path of step.files) out.push(`![${cell(step.title)}](${relative(dir, path)})`, "");
      for (const { container, lines } of step.logs) {
        out.push(
          `Last log lines of \`${container}\` when \`${cell(step.title)}\` failed:`,
          "",
          "```",
          ...lines,
          "```",
          "",
        );
      }
    }
  }
  return out.join("\n");
}

export default class LabsReporter implements Reporter {
  private vitest!: Vitest;
  private timers = new Map<string, NodeJS.Timeout>();

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestCaseReady(test: TestCase): void {
    const timer = setTimeout(() => console.log(`  … still running: ${test.fullName}`), SLOW_STEP_MS);
    this.timers.set(test.id, timer);
  }

  onTestCaseResult(test: TestCase): void {
    clearTimeout(this.timers.get(test.id));
    this.timers.delete(test.id);
  }

  onTestModuleEnd(module: TestModule): void {
    console.log(consoleBlock(labOf(module, this.vitest.config.root)));
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): Promise<void> {
    const project = this.vitest.projects.find(({ name }) => name === "labs");
    const context = project?.getProvidedContext();
    if (!context?.runId) return;
    const dir = join("reports", context.runId);
    await mkdir(dir, { recursive: true });

    const labs = modules.map((module) => labOf(module, this.vitest.config.root));
    const steps = labs.flatMap(({ steps }) => steps);
    const count = (state: string) => steps.filter((step) => step.state === state).length;
    const header = [
      `Engine: Docker ${context.engine.version} ${context.engine.os}/${context.engine.arch} at ${context.engine.endpoint}`,
      `Steps: ${count("passed")} passed, ${count("failed")} failed, ${count("not applicable")} not applicable`,
      ...errors.map((error) => `Error outside any step: ${error.message}`),
    ];
    await writeFile(join(dir, "report.md"), markdown(labs, context.runId, dir, header));

    const junit = new JUnitReporter({ outputFile: join(dir, "junit.xml") });
    await junit.onInit(this.vitest);
    await junit.onTestRunEnd(modules, errors);

    await rm(join("reports", "latest"), { force: true });
    await symlink(context.runId, join("reports", "latest"));
    console.log(`\nreport: ${join(dir, "report.md")} (JUnit: ${join(dir, "junit.xml")})`);
    console.log(`${count("passed")} passed, ${count("failed")} failed, ${count("not applicable")} skipped`);
  }
}
