import { join, relative } from "node:path";
import type { Listed } from "../../helpers/child-runs/run-labs.ts";
import { ROOT, UNBREAKABLE_FILE, type Mutant, type Unbreakable } from "./declarations.ts";
import { stepsNamed } from "./verdicts.ts";

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

// The one step a declared title names, as vitest collects them.
function stepTitled(title: string, steps: Listed[], where: string): Listed {
  const found = stepsNamed(steps, title);
  if (found.length === 0) throw new Error(`${where}: no lab step is titled "${title}"${closestStep(title, steps)}`);
  if (found.length > 1) {
    const names = found.map(({ fullName }) => `"${fullName}"`).join(", ");
    throw new Error(`${where}: "${title}" is ${names}: declare the full name`);
  }
  return found[0]!;
}

export function stepsOfMutants(mutants: Mutant[], steps: Listed[]): Map<Mutant, Listed[]> {
  return new Map(
    mutants.map((mutant) => {
      const where = relative(ROOT, join(mutant.folder, "catches.json"));
      return [mutant, mutant.steps.map((title) => stepTitled(title, steps, where))];
    }),
  );
}

export function stepsOfUnbreakables(unbreakables: Unbreakable[], steps: Listed[]): Map<Unbreakable, Listed> {
  const where = relative(ROOT, UNBREAKABLE_FILE);
  return new Map(unbreakables.map((line) => [line, stepTitled(line.title, steps, `${where} > "${line.kind}"`)]));
}

export const filesOf = (steps: Listed[]): string[] => [...new Set(steps.map(({ file }) => file))].sort();
