import { lastLines, type LabsRun } from "../../helpers/child-runs/run-labs.ts";
import { exitCauses, firstLine, type RunResult, type Step } from "../../helpers/child-runs/results.ts";
import { cell } from "../../helpers/util/markdown.ts";
import type { Mutant } from "./declarations.ts";

const CELL_WIDTH = 90;

export interface Verdict {
  mutant: Mutant;
  caught: boolean;
  catching: Step[];
  elsewhere: Step[];
  why: string;
  seconds: number;
}

// A declaration names a step by its title, or by its full name where two labs share a title.
export function stepsNamed<S extends Pick<Step, "fullName">>(steps: S[], declared: string): S[] {
  return steps.filter(({ fullName }) => fullName === declared || fullName.endsWith(` > ${declared}`));
}

const quoted = (step: Step) => `"${step.title}"`;
const article = (noun: string) => (/^[aeiou]/.test(noun) ? "an" : "a");

// Caught only when a step the broken image declares failed on an assertion; anything else is said as what it was.
export function verdictOf(mutant: Mutant, run: LabsRun): Verdict {
  const { steps } = run.result;
  const seconds = run.seconds;
  const declared = mutant.steps.flatMap((title) => stepsNamed(steps, title));
  const catching = declared.filter(({ failure }) => failure?.kind === "assertion");
  const elsewhere = steps.filter((step) => step.state === "failed" && !catching.includes(step));
  if (catching.length > 0)
    return { mutant, caught: true, catching, elsewhere, why: `caught by ${catching.map(quoted).join(", ")}`, seconds };
  const parts = declared.map(({ title, state, failure }) =>
    failure
      ? `"${title}" failed only on ${article(failure.kind)} ${failure.kind} (${failure.name}: ${firstLine(failure.message)})`
      : `"${title}" ${state}`,
  );
  const others = elsewhere.filter((step) => !declared.includes(step) && step.failure?.kind === "assertion");
  if (others.length > 0) parts.push(`caught only by steps it does not declare: ${others.map(quoted).join(", ")}`);
  if (steps.length === 0) parts.push(`the labs stopped before any step: ${lastLines(run)}`);
  const why = `NOT CAUGHT: ${parts.join("; ") || "none of its declared steps ran"}`;
  return { mutant, caught: false, catching, elsewhere, why, seconds };
}

// The baseline: every step of the files involved passed on the stand-ins, and every declared step ran.
export function whyNotGreen(run: LabsRun, mutants: Mutant[]): string | undefined {
  const { result } = run;
  if (result.steps.length === 0) return `the labs stopped before any step:\n  ${lastLines(run, 20)}`;
  const cause = exitCauses(result)[0];
  if (cause) return cause;
  for (const mutant of mutants) {
    const idle = mutant.steps
      .flatMap((title) => stepsNamed(result.steps, title))
      .find(({ state }) => state !== "passed");
    if (idle) return `"${idle.fullName}", declared by ${mutant.name}, was ${idle.state}, so it cannot catch anything`;
  }
  return undefined;
}

export const secondsOfFile = (result: RunResult, file: string) =>
  result.steps.reduce((sum, step) => sum + (step.file === file ? step.ms / 1000 : 0), 0);

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
