// The sampling windows a lab's steps declare: time a step must spend watching, which no runner can save, so it counts
// as the lab's own work. Read from the spec's source, because a spec file cannot be imported outside vitest.
import { readFileSync } from "node:fs";
import { join } from "node:path";

// Lab 3-2's D3 samples the workload's CPU over an idle window, then over a load burst right after it.
const DECLARED: Record<string, string[]> = { "lab-3-2-cadvisor": ["IDLE_WINDOW_MS", "LOAD_WINDOW_MS"] };

// `const NAME = 10_000` or `const NAME = OTHER_NAME`; anything else is an error, not a silent zero, so that a
// changed spec cannot make the critical path shorter unnoticed.
function constant(source: string, name: string, seen = new Set<string>()): number {
  const value = source.match(new RegExp(`\\bconst ${name}\\s*=\\s*([\\w]+)\\s*;`))?.[1];
  if (value === undefined || seen.has(name)) throw new Error(`bench: no plain \`const ${name} = …;\` in the spec`);
  if (/^[\d_]+$/.test(value)) return Number(value.replaceAll("_", ""));
  return constant(source, value, seen.add(name));
}

const specConstant = (lab: string, name: string) =>
  constant(readFileSync(join(import.meta.dirname, "..", "specs", `${lab}.spec.ts`), "utf8"), name);

export const windowsMs = (lab: string) =>
  (DECLARED[lab] ?? []).reduce((total, name) => total + specConstant(lab, name), 0);

// One window of Lab 3-2, for the baseline to sample the same length.
export const cadvisorWindowMs = () => specConstant("lab-3-2-cadvisor", "IDLE_WINDOW_MS");
