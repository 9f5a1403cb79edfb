// The engine matrix as markdown: one column per engine (product, version and store, as the engine itself reported
// them), one row per lab, then every not-applicable step with its reason and every problem with its first line.
// Also what makes the matrix red: a step that did not pass and was not ruled out by the one rule, or a run that
// stopped outside any step.
import { basename } from "node:path";
import { describeEngine, engineTitle } from "../../helpers/engine/facts.ts";
import { problemsOfRun, type LabsRun } from "../../helpers/child-runs/run-labs.ts";
import { counts } from "../../helpers/vitest/run-results.ts";
import { cell } from "../../helpers/util/markdown.ts";

export interface EngineRun {
  name: string;
  run?: Pick<LabsRun, "result" | "exitCode" | "output">;
  error?: string; // the engine never got as far as the labs: it did not start, or the copy failed
  timings: [string, number][];
}

const labOf = (file: string) => basename(file).replace(/\.spec\.ts$/, "");

const title = ({ name, run }: EngineRun) => (run?.result.engine ? `${name}: ${engineTitle(run.result.engine)}` : name);

/** Why `e` is not green, one line each; empty when every step passed or was not applicable by the rule. */
export function problemsOf(e: EngineRun): string[] {
  if (e.error) return [`${e.name}: ${e.error}`];
  return problemsOfRun(e.run!).map((problem) => `${e.name}: ${problem}`);
}

export function matrixMarkdown(engines: EngineRun[]): string {
  const steps = (e: EngineRun, lab?: string) =>
    (e.run?.result.steps ?? []).filter(({ file }) => lab === undefined || labOf(file) === lab);
  const labs = [...new Set(engines.flatMap((e) => steps(e).map(({ file }) => labOf(file))))].sort();
  const out = [
    `| Lab | ${engines.map((e) => cell(title(e))).join(" | ")} |`,
    `| --- |${" --- |".repeat(engines.length)}`,
  ];
  for (const lab of labs) {
    const cells = engines.map((e) => (e.run ? counts(steps(e, lab), true) : "—"));
    out.push(`| ${lab} | ${cells.join(" | ")} |`);
  }
  const totals = engines.map((e) => (e.run ? counts(steps(e), true) : `did not run: ${cell(e.error ?? "")}`));
  out.push(`| **all labs** | ${totals.map((total) => `**${total}**`).join(" | ")} |`, "");
  for (const e of engines) {
    const engine = e.run?.result.engine;
    out.push(`- ${e.name}: ${engine ? describeEngine(engine) : "no engine facts (the labs did not start)"}`);
    out.push(`  - times: ${e.timings.map(([what, s]) => `${what} ${s.toFixed(1)} s`).join(", ") || "none"}`);
  }
  const ruledOut = engines.flatMap((e) =>
    steps(e)
      .filter(({ state }) => state === "not applicable")
      .map((step) => `- ${e.name}, ${labOf(step.file)}, \`${cell(step.title)}\`: ${cell(step.note ?? "")}`),
  );
  out.push("", "Not applicable:", "", ...(ruledOut.length ? ruledOut : ["- none"]));
  const problems = engines.flatMap(problemsOf);
  out.push("", "Failed:", "", ...(problems.length ? problems.map((p) => `- ${cell(p)}`) : ["- none"]), "");
  return out.join("\n");
}
