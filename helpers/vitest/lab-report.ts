// A lab run as people read it: per lab the image used, per step the docker command, the outcome, the time and what
// was observed, for the console and for report.md; all of it read from the run model.
import { join, relative } from "node:path";
import type { RunResult, SpecFile, Step } from "./run-results.ts";
import { cell } from "../util/markdown.ts";

// Names the folder of the last run's report (a file: Windows refuses symlinks without Developer Mode).
export const LATEST = join("reports", "latest.txt");

const MARK: Record<Step["state"], string> = {
  passed: "✓",
  failed: "✗",
  "not applicable": "–",
  skipped: "–",
  "not run": "·",
};

const observed = (step: Step) => [...step.observed, ...(step.note ? [step.note] : [])];
const failureLine = ({ failure }: Step) =>
  failure ? [`${failure.name}: ${failure.message}${failure.at ? ` (at ${failure.at})` : ""}`] : [];

export function consoleBlock(file: SpecFile, steps: Step[]): string {
  const lines = [`\n${file.lab}  (${file.file})`, ...file.images.map((image) => `  image ${image}`)];
  for (const step of steps) {
    lines.push(`  ${MARK[step.state]} ${step.title}  ${step.state === "passed" ? `${step.ms} ms` : step.state}`);
    lines.push(...observed(step).map((line) => `      ${line}`), ...step.kept.map((path) => `      kept ${path}`));
    lines.push(...failureLine(step).map((line) => `      ${line}`));
    for (const { container, lines: logLines } of step.logs) {
      lines.push(`      last log lines of ${container}:`, ...logLines.map((line) => `        ${line}`));
    }
  }
  return lines.join("\n");
}

// A step's row starts with its title and its state: what the report check looks for.
export const rowStart = (step: Pick<Step, "title" | "state">) => `| \`${cell(step.title)}\` | ${step.state} |`;

export function markdown(result: RunResult, dir: string, header: string[]): string {
  const out = [`# container-labs report: run ${result.runId}`, "", ...header.map((line) => `- ${line}`), ""];
  for (const lab of result.files) {
    const steps = result.steps.filter(({ file }) => file === lab.file);
    out.push(`## ${lab.lab}`, "", `Spec: \`${lab.file}\``, "", ...lab.images.map((image) => `- image ${image}`), "");
    out.push("| Step (docker CLI) | Result | Duration | Observed |", "| --- | --- | --- | --- |");
    for (const step of steps) {
      out.push(
        `${rowStart(step)} ${step.ms} ms | ${[...observed(step), ...failureLine(step)].map((line) => cell(line)).join("<br>")} |`,
      );
    }
    out.push("");
    for (const step of steps) {
      for (const path of step.kept) out.push(`![${cell(step.title)}](${relative(dir, path)})`, "");
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
