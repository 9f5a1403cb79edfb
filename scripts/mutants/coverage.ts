// Every lab step against the broken images: the images whose declared breakage it caught, or the line of
// no-broken-image.json that says why no broken image here can fail it. A step with neither has not been shown able to
// fail; a step with both has a line that an image has just proved wrong.
import type { Listed } from "../../helpers/child-runs/run-labs.ts";
import { cell } from "../../helpers/util/markdown.ts";
import type { Unbreakable } from "./declarations.ts";
import type { Verdict } from "./verdicts.ts";

type Covered = ReturnType<typeof coverage>[number];

export function coverage(steps: Listed[], verdicts: Verdict[], unbreakables: Map<Unbreakable, Listed>) {
  return steps.map((step) => {
    const caughtBy = verdicts
      .filter(({ catching }) => catching.some(({ fullName }) => fullName === step.fullName))
      .map(({ mutant }) => mutant.name);
    const unbreakable = [...unbreakables].find(([, named]) => named.fullName === step.fullName)?.[0];
    return { step, caughtBy, unbreakable };
  });
}

const neither = (rows: Covered[]) => rows.filter(({ caughtBy, unbreakable }) => !caughtBy.length && !unbreakable);

// Why the coverage is not whole, one line a step; empty when every step has a catching image or a line that says why
// none can catch it, and not both.
export function coverageProblems(rows: Covered[]): string[] {
  return [
    ...neither(rows).map(
      ({ step }) =>
        `"${step.fullName}" has no broken image that catches it and no line in images/broken/no-broken-image.json`,
    ),
    ...rows
      .filter(({ caughtBy, unbreakable }) => caughtBy.length && unbreakable)
      .map(
        ({ step, caughtBy, unbreakable }) =>
          `"${step.fullName}" is declared ${unbreakable!.kind}, yet ${caughtBy.join(", ")} failed it: take its line out`,
      ),
  ];
}

// For the console: the groups, each step under its lab's title.
export function coverageText(rows: Covered[]): string {
  const caught = rows.filter(({ caughtBy }) => caughtBy.length);
  const none = neither(rows);
  const ofKind = (kind: Unbreakable["kind"]) => {
    const lines = rows.filter(({ unbreakable }) => unbreakable?.kind === kind);
    return [
      `${kind} (${lines.length}):`,
      ...lines.map(({ step, unbreakable }) => `  ${step.fullName}\n      ${unbreakable!.fact}`),
    ];
  };
  return [
    `coverage: ${rows.length} steps; ${caught.length} caught by a broken image, ` +
      `${rows.length - caught.length - none.length} that no broken image here can fail, ${none.length} with neither`,
    `caught by a broken image (${caught.length}):`,
    ...caught.map(({ step, caughtBy }) => `  ${step.fullName}: ${caughtBy.join(", ")}`),
    ...ofKind("engine-only"),
    ...ofKind("official image only"),
    `neither (${none.length}):`,
    ...none.map(({ step }) => `  ${step.fullName}`),
  ].join("\n");
}

// For reports/mutants.md: one row a step.
export function coverageTable(rows: Covered[]): string {
  const row = ({ step, caughtBy, unbreakable }: Covered) => {
    const how = caughtBy.length
      ? caughtBy.join(", ")
      : unbreakable
        ? `${unbreakable.kind}: ${unbreakable.fact}`
        : "**neither**";
    return `| ${cell(step.fullName, 110)} | ${cell(how)} |`;
  };
  return ["| Step | Caught by, or why no broken image can catch it |", "| --- | --- |", ...rows.map(row)].join("\n");
}
