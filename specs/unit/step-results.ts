import type { Step } from "../../helpers/vitest/run-results.ts";

// A step as a child run's results record it, for the specs of the tools that read those results.
export const stepOf = (
  { lab, file }: { lab: string; file: string },
  title: string,
  state: Step["state"],
  extra: Partial<Step> = {},
): Step => ({
  file,
  lab,
  title,
  fullName: `${lab} > ${title}`,
  state,
  ms: 1,
  observed: [],
  kept: [],
  logs: [],
  ...extra,
});
