import { lastLines, type LabsRun } from "../../helpers/child-runs/run-labs.ts";
import { exitCauses, firstLine, type RunResult, type Step } from "../../helpers/vitest/run-results.ts";
import { cell } from "../../helpers/util/markdown.ts";
import type { Mutant } from "./declarations.ts";

const CELL_WIDTH = 90;

export type Verdict = ReturnType<typeof verdictOf>;

// A declaration names a step by its title, or by its full name where two labs share a title.
export function stepsNamed<S extends Pick<Step, "fullName">>(steps: S[], declared: string): S[] {
  return steps.filter(({ fullName }) => fullName === declared || fullName.endsWith(` > ${declared}`));
}

const quoted = (step: Step) => `"${step.title}"`;
const article = (noun: string) => (/^[aeiou]/.test(noun) ? "an" : "a");

// Caught only when every step the broken image declares failed on an assertion: a declaration says which steps see
// the breakage, and each of them must. Anything else is said as what it was.
export function verdictOf(mutant: Mutant, run: LabsRun) {
  const { steps } = run.result;
  const seconds = run.seconds;
  const declared = mutant.steps.flatMap((title) => stepsNamed(steps, title));
  const catching = declared.filter(({ failure }) => failure?.kind === "assertion");
  const elsewhere = steps.filter((step) => step.state === "failed" && !catching.includes(step));
  const missed = declared.filter((step) => !catching.includes(step));
  const unreported = mutant.steps.filter((title) => stepsNamed(steps, title).length === 0);
  if (missed.length === 0 && unreported.length === 0)
    return { mutant, caught: true, catching, elsewhere, why: `caught by ${catching.map(quoted).join(", ")}`, seconds };
  const parts = missed.map(({ title, state, failure }) =>
    failure
      ? `"${title}" failed only on ${article(failure.kind)} ${failure.kind} (${failure.name}: ${firstLine(failure.message)})`
      : `"${title}" ${state}`,
  );
  parts.push(...unreported.map((title) => `"${title}" did not run`));
  const others = elsewhere.filter((step) => !declared.includes(step) && step.failure?.kind === "assertion");
  if (others.length > 0) parts.push(`caught only by steps it does not declare: ${others.map(quoted).join(", ")}`);
  if (steps.length === 0) parts.push(`the labs stopped before any step: ${lastLines(run)}`);
  const by = catching.length > 0 ? ` (caught by ${catching.map(quoted).join(", ")} only)` : "";
  return { mutant, caught: false, catching, elsewhere, why: `NOT CAUGHT: ${parts.join("; ")}${by}`, seconds };
}

// The baseline: every step it ran passed, each declared step among them. A step that no stand-in can run (the
// official-only ones) must be not applicable there by the stand-in's label, as its line in no-broken-image.json says.
export function whyNotGreen(run: LabsRun, mutants: Mutant[], officialOnly: string[] = []): string | undefined {
  const { result } = run;
  if (result.steps.length === 0) return `the labs stopped before any step:\n  ${lastLines(run, 20)}`;
  const cause = exitCauses(result)[0];
  if (cause) return cause;
  for (const mutant of mutants) {
    const idle = mutant.steps.find((title) => stepsNamed(result.steps, title).some(({ state }) => state !== "passed"));
    const step = idle && stepsNamed(result.steps, idle)[0]!;
    if (step) return `"${step.fullName}", declared by ${mutant.name}, was ${step.state}, so it cannot catch anything`;
    const absent = mutant.steps.find((title) => stepsNamed(result.steps, title).length === 0);
    if (absent) return `"${absent}", declared by ${mutant.name}, did not run`;
  }
  for (const fullName of officialOnly) {
    const step = result.steps.find((step) => step.fullName === fullName);
    if (step?.state !== "not applicable" || !step.note?.includes("labs.stand-in.lacks="))
      return `"${fullName}" is declared official image only, but on the stand-ins it was ${step ? `${step.state}${step.note ? ` (${step.note})` : ""}` : "not run"}, not "not applicable" by a labs.stand-in.lacks label`;
  }
  return undefined;
}

// How long a run of these steps alone should take, judged by the baseline: each of their files' own time beyond its
// steps (imports, the containers its fixtures start), and each step's.
export function expectedSeconds(baseline: RunResult, steps: Pick<Step, "file" | "fullName">[]): number {
  const names = new Set(steps.map(({ fullName }) => fullName));
  const stepsOf = (file: string) => baseline.steps.filter((step) => step.file === file);
  const own = baseline.files
    .filter(({ file }) => steps.some((step) => step.file === file))
    .map(({ file, times }) => {
      const { startedAt, endedAt } = times ?? {};
      const wall = startedAt !== undefined && endedAt !== undefined ? (endedAt - startedAt) / 1000 : 0;
      return Math.max(0, wall - stepsOf(file).reduce((sum, step) => sum + step.ms / 1000, 0));
    });
  const declared = baseline.steps.filter(({ fullName }) => names.has(fullName)).map(({ ms }) => ms / 1000);
  return [...own, ...declared].reduce((sum, seconds) => sum + seconds, 0);
}

const assertionOf = ({ failure }: Step) => firstLine(failure?.message ?? "").replace(/ \/\/ Object\.is equality$/, "");

// Broken image × the steps that caught it, with what each step's assertion saw.
export function matrix(verdicts: Verdict[]): string {
  const rows = verdicts.map(({ mutant, caught, catching, elsewhere, why, seconds }) => {
    const caughtBy = catching.map((step) => cell(`\`${step.title}\`: ${assertionOf(step)}`, CELL_WIDTH));
    const also = elsewhere.map((step) => cell(`\`${step.title}\` (${step.failure?.kind})`, CELL_WIDTH));
    const verdict = caught ? "caught" : cell(why, CELL_WIDTH);
    return `| ${mutant.name} | ${mutant.official} | ${caughtBy.join("<br>") || "—"} | ${also.join("<br>") || "—"} | ${verdict} | ${seconds.toFixed(0)} |`;
  });
  return [
    "| Broken image | Stands for | Caught by (declared step: its assertion) | Other failed steps | Verdict | s |",
    "| --- | --- | --- | --- | --- | ---: |",
    ...rows,
  ].join("\n");
}
