import type { Mutant } from "./declarations.ts";
import type { StepResult } from "./lab-runs.ts";

const CELL_WIDTH = 90;

export interface Verdict {
  mutant: Mutant;
  caught: boolean;
  catching: StepResult[];
  elsewhere: StepResult[];
  why: string;
  seconds: number;
}

// A declaration names a step by its title, or by its full name where two labs share a title.
export function stepsNamed<Step extends Pick<StepResult, "fullName">>(steps: Step[], declared: string): Step[] {
  return steps.filter(({ fullName }) => fullName === declared || fullName.endsWith(` > ${declared}`));
}

const quoted = (step: StepResult) => `"${step.title}"`;
const article = (noun: string) => (/^[aeiou]/.test(noun) ? "an" : "a");

// Caught only when a step the broken image declares failed on an assertion; anything else is said as what it was.
export function verdictOf(mutant: Mutant, steps: StepResult[], seconds: number): Verdict {
  const declared = mutant.steps.flatMap((title) => stepsNamed(steps, title));
  const catching = declared.filter(({ failure }) => failure?.kind === "assertion");
  const elsewhere = steps.filter((step) => step.status === "failed" && !catching.includes(step));
  if (catching.length > 0)
    return { mutant, caught: true, catching, elsewhere, why: `caught by ${catching.map(quoted).join(", ")}`, seconds };
  const parts = declared.map(({ title, status, failure }) =>
    failure
      ? `"${title}" failed only on ${article(failure.kind)} ${failure.kind} (${failure.message})`
      : `"${title}" ${status}`,
  );
  const others = elsewhere.filter((step) => !declared.includes(step) && step.failure?.kind === "assertion");
  if (others.length > 0) parts.push(`caught only by steps it does not declare: ${others.map(quoted).join(", ")}`);
  const why = `NOT CAUGHT: ${parts.join("; ") || "none of its declared steps ran"}`;
  return { mutant, caught: false, catching, elsewhere, why, seconds };
}

// The baseline: every step of the files involved passed on the stand-ins, and every declared step ran.
export function whyNotGreen(steps: StepResult[], mutants: Mutant[], unloadable: string[]): string | undefined {
  if (unloadable.length > 0) return unloadable[0];
  const failed = steps.find(({ status }) => status === "failed");
  if (failed) return `"${failed.fullName}" fails (${failed.failure?.message})`;
  for (const mutant of mutants) {
    const idle = mutant.steps.flatMap((title) => stepsNamed(steps, title)).find(({ status }) => status !== "passed");
    if (idle) return `"${idle.fullName}", declared by ${mutant.name}, was ${idle.status}, so it cannot catch anything`;
  }
  return undefined;
}

function cell(text: string): string {
  const short = text.length > CELL_WIDTH ? `${text.slice(0, CELL_WIDTH - 1)}…` : text;
  return short.replaceAll("|", "\\|");
}

function assertionOf(step: StepResult): string {
  return (step.failure?.message ?? "").replace(/^\w*Error: /, "").replace(/ \/\/ Object\.is equality$/, "");
}

// Broken image × the steps that caught it, with what each step's assertion saw.
export function matrix(verdicts: Verdict[]): string {
  const rows = verdicts.map(({ mutant, caught, catching, elsewhere, why, seconds }) => {
    const caughtBy = catching.map((step) => cell(`\`${step.title}\`: ${assertionOf(step)}`)).join("<br>") || "—";
    const also = elsewhere.map((step) => cell(`\`${step.title}\` (${step.failure?.kind})`)).join("<br>") || "—";
    return `| ${mutant.name} | ${mutant.official} | ${caughtBy} | ${also} | ${caught ? "caught" : cell(why)} | ${seconds.toFixed(0)} |`;
  });
  return [
    "| Broken image | Stands for | Caught by (declared step: its assertion) | Other failed steps | Verdict | s |",
    "| --- | --- | --- | --- | --- | ---: |",
    ...rows,
  ].join("\n");
}
