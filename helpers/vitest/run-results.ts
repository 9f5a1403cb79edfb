// What a run of the labs did, step by step: the one model that the report, the console, the engine matrix, the broken
// images, the bench, the official path and the report check read. It is built from vitest's reporter objects and
// kept as JSON (results-reporter.ts for another process; results.json in a report folder): vitest's JSON reporter
// drops skip notes, annotations, error names and the errors outside any step.
import { readFile } from "node:fs/promises";
import { basename, relative } from "node:path";
import type { SerializedError } from "vitest";
import type { TestCase, TestModule, TestRunEndReason } from "vitest/node";
import type { Engine } from "../engine/facts.ts";

// The one rule for "not applicable": a fact the image or the engine reports, named with the upstream reason in one
// line. Any other skip is "skipped" (a user's choice) or "not run" (the run could not get to it); the report check
// and the engine matrix accept neither.
export const NOT_APPLICABLE =
  /^not applicable: (image label labs\.stand-in\.lacks=[\w-]+ \([^)]+\)|(engine|runner) reports [^;]+); \S.*$/;

export const STATES = ["passed", "failed", "not applicable", "skipped", "not run"] as const;
export type StepState = (typeof STATES)[number];

// Only an assertion shows that a step judged what it ran; a timeout or another error says nothing about that.
export interface Failure {
  kind: "assertion" | "timeout" | "error";
  name: string;
  message: string;
  at?: string;
  stack?: string;
}

export interface Step {
  file: string;
  lab: string;
  title: string;
  fullName: string;
  state: StepState;
  ms: number;
  note?: string;
  failure?: Failure;
  observed: string[];
  kept: string[]; // files kept in the report folder (annotations of type "evidence")
  logs: { container: string; lines: string[] }[];
}

export interface SpecFile {
  file: string;
  lab: string;
  images: string[];
  ran: boolean;
  failures: Failure[];
  // When the runner saw the file queued, started and ended (epoch ms): its imports and file fixtures included. Its
  // worker slot (one of maxWorkers), and that worker's V8 heap in use at the file's end (only under --logHeapUsage).
  times?: { queuedAt: number; startedAt?: number; endedAt?: number; worker?: number; heapBytes?: number };
}

export interface RunResult {
  runId?: string;
  engine?: Engine;
  outcome: TestRunEndReason;
  files: SpecFile[];
  steps: Step[];
  errors: Failure[];
}

export const RESULTS_IN_REPORT = "results.json";
const KINDS: Record<string, Failure["kind"]> = {
  AssertionError: "assertion",
  TestTimeoutError: "timeout",
  HookTimeoutError: "timeout",
};

export const firstLine = (text: string) => text.split("\n")[0]!.trim();

function failureOf({ name = "Error", message, stacks, stack }: SerializedError): Failure {
  const at = stacks?.[0] && `${stacks[0].file}:${stacks[0].line}`;
  return { kind: KINDS[name] ?? "error", name, message, ...(at ? { at } : {}), ...(stack ? { stack } : {}) };
}

function stateOf(test: TestCase, cancelled: boolean): Pick<Step, "state" | "note" | "failure"> {
  const result = test.result();
  if (result.state === "passed") return { state: "passed" };
  if (result.state === "failed")
    return { state: "failed", ...(result.errors[0] && { failure: failureOf(result.errors[0]) }) };
  if (result.state === "pending") return { state: "not run", note: "not run: the run ended before it" };
  const note = result.note;
  if (note && NOT_APPLICABLE.test(note)) return { state: "not applicable", note };
  if (note?.startsWith("not run")) return { state: "not run", note };
  if (cancelled) return { state: "not run", note: `not run: the run was cancelled (${note ?? "no reason"})` };
  return { state: "skipped", ...(note ? { note } : {}) };
}

export function fileResultOf(module: TestModule, root: string, cancelled = false): { file: SpecFile; steps: Step[] } {
  const file = relative(root, module.moduleId);
  const lab = [...module.children.suites()][0]?.name ?? basename(file);
  const steps = [...module.children.allTests()].map((test): Step => {
    const annotations = test.annotations();
    const messages = (kept: boolean) =>
      annotations.filter(({ type }) => (type === "evidence") === kept).map(({ message }) => message);
    const [outer, ...inner] = test.fullName.split(" > ");
    return {
      file,
      lab: inner.length ? outer! : lab,
      title: test.name,
      fullName: test.fullName,
      ...stateOf(test, cancelled),
      ms: Math.round(test.diagnostic()?.duration ?? 0),
      observed: messages(false),
      kept: messages(true),
      logs: test.meta().containerLogs ?? [],
    };
  });
  const state = module.state();
  const failures = module.errors().map(failureOf);
  const images = module.meta().labImages ?? [];
  return { file: { file, lab, images, ran: state !== "pending" && state !== "queued", failures }, steps };
}

// A file of a project that ran the labs' global setup, which provides the run id while the run is on.
export const isLabFile = (module: TestModule) => Boolean(module.project.getProvidedContext().runId);

export function runResultOf(
  modules: ReadonlyArray<TestModule>,
  errors: ReadonlyArray<SerializedError>,
  outcome: TestRunEndReason,
  root: string,
  ofLabs = isLabFile,
): RunResult {
  const labs = modules.filter(ofLabs);
  const context = labs[0]?.project.getProvidedContext();
  const files = labs.map((module) => fileResultOf(module, root, outcome === "interrupted"));
  return {
    ...(context && { runId: context.runId, engine: context.engine }),
    outcome,
    files: files.map(({ file }) => file),
    steps: files.flatMap(({ steps }) => steps),
    errors: errors.map(failureOf),
  };
}

export const readRunResult = async (file: string) => JSON.parse(await readFile(file, "utf8")) as RunResult;

const count = (steps: Step[], state: StepState) => steps.filter((step) => step.state === state).length;

// "43 passed, 0 failed, 2 not applicable, 0 skipped, 0 not run"; with `onlySome`, only the kinds there are.
export function counts(steps: Step[], onlySome = false): string {
  const shown = STATES.filter((state) => !onlySome || count(steps, state) > 0);
  return shown.map((state) => `${count(steps, state)} ${state}`).join(", ") || "no steps";
}

const failed = ({ kind, name, message }: Failure) =>
  `${kind === "timeout" ? "timed out" : "failed"}: ${name}: ${firstLine(message)}`;

// Why vitest ends this run with a non-zero exit code, one line a cause; empty for a run that exits 0.
export function exitCauses(result: RunResult, cancelledBecause?: string): string[] {
  const causes = result.steps
    .filter(({ state }) => state === "failed")
    .map(({ fullName, failure }) => `step "${fullName}" ${failure ? failed(failure) : "failed"}`);
  for (const { file, ran, failures } of result.files) {
    causes.push(...failures.map((failure) => `${file} ${failed(failure)} outside its steps`));
    if (!ran) causes.push(`${file} did not run to the end`);
  }
  const notRun = count(result.steps, "not run");
  if (notRun > 0) causes.push(`${notRun} step(s) not run`);
  if (result.outcome === "interrupted")
    causes.push(`the run was cancelled${cancelledBecause ? `: ${cancelledBecause}` : ""}`);
  causes.push(...result.errors.map((error) => `an error outside any step: ${error.name}: ${firstLine(error.message)}`));
  return causes;
}

// What keeps a run from counting as verified beyond why it exits non-zero: each skip the one rule does not allow.
export function unverified(result: RunResult): string[] {
  return result.steps
    .filter(({ state }) => state === "skipped")
    .map(({ fullName, note = "" }) =>
      note.startsWith("not applicable")
        ? `step "${fullName}" is not applicable without a named image label or engine fact: ${note}`
        : `step "${fullName}" ${note.startsWith("skipped") ? note : `was skipped: ${note || "(no reason)"}`}`,
    );
}
