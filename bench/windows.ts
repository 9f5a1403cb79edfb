// The sampling windows a lab's steps declare: time a step must spend watching, which no runner can save, so it counts
// as the lab's own work. Read from the spec's source, because a spec file cannot be imported outside vitest.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const SPECS = join(import.meta.dirname, "..", "specs");

// Lab 3-2's D3 compares the workload's CPU over an idle window with a load burst of the same length, one after the
// other: twice the window.
const DECLARED: { lab: string; constant: RegExp; times: number }[] = [
  { lab: "lab-3-2-cadvisor", constant: /\bWINDOW_MS\s*=\s*([\d_]+)/, times: 2 },
];

export function windowsMs(lab: string): number {
  const declared = DECLARED.find((entry) => entry.lab === lab);
  if (!declared) return 0;
  const source = readFileSync(join(SPECS, `${lab}.spec.ts`), "utf8");
  const value = source.match(declared.constant)?.[1];
  return value === undefined ? 0 : Number(value.replaceAll("_", "")) * declared.times;
}

// The length of one window, for the baseline to sample the same.
export const windowMs = (lab: string) => windowsMs(lab) / (DECLARED.find((entry) => entry.lab === lab)?.times ?? 1);
