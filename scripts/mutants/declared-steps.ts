import { join, relative } from "node:path";
import { listSteps } from "../../helpers/child-runs/run-labs.ts";
import type { Step } from "../../helpers/child-runs/results.ts";
import { DeclarationError, ROOT, type Mutant } from "./declarations.ts";
import { stepsNamed } from "./verdicts.ts";

type Listed = Pick<Step, "file" | "fullName">;

// A title edited in a spec usually keeps its command: the step sharing the longest start is the likely new name.
function closestStep(title: string, steps: Listed[]): string {
  const sharedStart = ({ fullName }: Listed) => {
    const other = fullName.slice(fullName.lastIndexOf(" > ") + 3);
    let length = 0;
    while (length < title.length && other[length] === title[length]) length++;
    return length;
  };
  const best = steps.toSorted((a, b) => sharedStart(b) - sharedStart(a))[0];
  return best && sharedStart(best) >= 8 ? ` (is it now "${best.fullName}"?)` : "";
}

const declaredIn = (mutant: Mutant) => relative(ROOT, join(mutant.folder, "catches.json"));

// Which spec file holds each declared step, as vitest collects them.
export async function specFilesOf(
  mutants: Mutant[],
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<Map<Mutant, string[]>> {
  const steps = await listSteps({ env, signal });
  const files = new Map<Mutant, string[]>();
  for (const mutant of mutants) {
    const found = mutant.steps.map((title) => ({ title, steps: stepsNamed(steps, title) }));
    const missing = found.find(({ steps }) => steps.length === 0);
    if (missing) {
      const hint = closestStep(missing.title, steps);
      throw new DeclarationError(`${declaredIn(mutant)}: no lab step is titled "${missing.title}"${hint}`);
    }
    const ambiguous = found.find(({ steps }) => steps.length > 1);
    if (ambiguous) {
      const names = ambiguous.steps.map(({ fullName }) => `"${fullName}"`).join(", ");
      throw new DeclarationError(`${declaredIn(mutant)}: "${ambiguous.title}" is ${names}: declare the full name`);
    }
    files.set(mutant, [...new Set(found.flatMap(({ steps }) => steps.map(({ file }) => file)))]);
  }
  return files;
}
