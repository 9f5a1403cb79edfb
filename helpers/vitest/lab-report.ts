// A lab run as people read it: per lab the image used, per step the docker command, the outcome, the time and what
// was observed, for the console and for report.md.
import { basename, join, relative } from "node:path";
import type { TestCase, TestModule } from "vitest/node";

// Names the folder of the last run's report (a file: Windows refuses symlinks without Developer Mode).
export const LATEST = join("reports", "latest.txt");

// Specs annotate a file they kept in the run's report folder with this type (see helpers/evidence.ts).
const EVIDENCE = "evidence";

export interface Step {
  title: string;
  state: string;
  durationMs: number;
  evidence: string[];
  files: string[];
  failure?: string;
  logs: { container: string; lines: string[] }[];
}

export interface Lab {
  title: string;
  file: string;
  images: string[];
  steps: Step[];
}

export function stepOf(test: TestCase): Step {
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

export function labOf(module: TestModule, root: string): Lab {
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

export function consoleBlock(lab: Lab): string {
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

export function markdown(labs: Lab[], runId: string, dir: string, header: string[]): string {
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
