// The engine matrix as markdown: one column per engine (product, version and store, as the engine itself reported
// them), one row per lab, then every not-applicable step with its reason and every failed step with its first line.
// Also what makes the matrix red: a failure, a run that stopped outside any step, or a skip the one rule does not allow.
import { describeEngine, engineTitle } from "../../helpers/engine/facts.ts";
import { NOT_APPLICABLE } from "../../helpers/lab/applicability.ts";
import type { MatrixStep, StepState } from "../../helpers/vitest/matrix-reporter.ts";
import { lastLine, type LabsRun } from "./run-labs.ts";

export interface EngineRun {
  name: string;
  run?: LabsRun;
  error?: string; // the engine never got as far as the labs: it did not start, or the copy failed
  timings: [string, number][];
}

const STATES: StepState[] = ["passed", "failed", "not applicable"];
const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

function title(e: EngineRun): string {
  const engine = e.run?.engine;
  if (!engine) return e.name;
  return `${e.name}: ${engineTitle(engine)}`;
}

function counts(steps: MatrixStep[]): string {
  const parts = STATES.map((state) => [steps.filter((step) => step.state === state).length, state] as const);
  return (
    parts
      .filter(([n]) => n > 0)
      .map(([n, state]) => `${n} ${state}`)
      .join(", ") || "no steps"
  );
}

/** Why `e` is not green, one line each; empty when every step passed or was not applicable by the rule. */
export function problemsOf(e: EngineRun): string[] {
  if (e.error) return [`${e.name}: ${e.error}`];
  const run = e.run!;
  const problems = run.steps
    .filter((step) => step.state === "failed")
    .map((step) => `${e.name}: ${step.lab} "${step.title}" failed: ${step.failure}`);
  for (const step of run.steps.filter((s) => s.state === "not applicable" && !NOT_APPLICABLE.test(s.note ?? ""))) {
    problems.push(`${e.name}: ${step.lab} "${step.title}" skipped against the rule: ${step.note ?? "(no reason)"}`);
  }
  problems.push(...run.errors.map((error) => `${e.name}: error outside any step: ${error}`));
  if (run.steps.length === 0) problems.push(`${e.name}: the labs stopped before any step: ${lastLine(run)}`);
  else if (run.exitCode !== 0 && problems.length === 0) {
    problems.push(`${e.name}: the run exited ${run.exitCode} with every step green: ${lastLine(run)}`);
  }
  return problems;
}

export function matrixMarkdown(engines: EngineRun[]): string {
  const labs = [...new Set(engines.flatMap((e) => e.run?.steps.map((step) => step.lab) ?? []))].sort();
  const out = [
    `| Lab | ${engines.map((e) => cell(title(e))).join(" | ")} |`,
    `| --- |${" --- |".repeat(engines.length)}`,
  ];
  for (const lab of labs) {
    const cells = engines.map((e) => (e.run ? counts(e.run.steps.filter((step) => step.lab === lab)) : "—"));
    out.push(`| ${lab} | ${cells.join(" | ")} |`);
  }
  const totals = engines.map((e) => (e.run ? counts(e.run.steps) : `did not run: ${cell(e.error ?? "")}`));
  out.push(`| **all labs** | ${totals.map((total) => `**${total}**`).join(" | ")} |`, "");
  for (const e of engines) {
    const engine = e.run?.engine;
    out.push(`- ${e.name}: ${engine ? describeEngine(engine) : "no engine facts (the labs did not start)"}`);
    out.push(`  - times: ${e.timings.map(([what, s]) => `${what} ${s.toFixed(1)} s`).join(", ") || "none"}`);
  }
  const skipped = engines.flatMap((e) =>
    (e.run?.steps ?? []).filter((step) => step.state === "not applicable").map((step) => ({ e, step })),
  );
  out.push("", "Not applicable:", "");
  if (skipped.length === 0) out.push("- none");
  for (const { e, step } of skipped)
    out.push(`- ${e.name}, ${step.lab}, \`${cell(step.title)}\`: ${cell(step.note ?? "")}`);
  const problems = engines.flatMap(problemsOf);
  out.push("", "Failed:", "", ...(problems.length ? problems.map((p) => `- ${cell(p)}`) : ["- none"]), "");
  return out.join("\n");
}
