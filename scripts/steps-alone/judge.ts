// What a step run by itself must show, and the table of every step's run.
import { lastLines, type LabsRun, type Listed } from "../../helpers/child-runs/run-labs.ts";
import { exitCauses, firstLine, type Step } from "../../helpers/vitest/run-results.ts";
import { cell } from "../../helpers/util/markdown.ts";

type Run = Pick<LabsRun, "result" | "exitCode" | "output">;

export type Alone = ReturnType<typeof aloneVerdict>;

// A step that the filter left out is skipped with no note: vitest never started it.
const leftOut = ({ state, note }: Step) => state === "skipped" && note === undefined;

function problemOf(listed: Listed, own: Step | undefined, run: Run): string | undefined {
  const { steps } = run.result;
  if (!own) {
    if (steps.length === 0) return `the labs stopped before any step: ${lastLines(run)}`;
    return `the run did not report the step (it reported ${steps.length} others)`;
  }
  if (own.state === "failed") {
    const failure = own.failure;
    if (!failure) return "with no error recorded";
    return `${failure.kind === "timeout" ? "timed out: " : ""}${failure.name}: ${firstLine(failure.message)}`;
  }
  if (own.state !== "passed" && own.state !== "not applicable")
    return leftOut(own) ? "the filter did not select it" : (own.note?.replace(`${own.state}: `, "") ?? "(no reason)");
  const others = steps.filter((step) => step !== own && (step.file !== listed.file || !leftOut(step)));
  if (others.length > 0)
    return `the filter let other steps in too: ${others.map(({ fullName, state }) => `"${fullName}" (${state})`).join(", ")}`;
  const cause = exitCauses(run.result)[0];
  if (cause) return cause;
  if (run.exitCode !== 0) return `the run exited ${run.exitCode}: ${lastLines(run)}`;
  return undefined;
}

// Green only when the run reported exactly this step passed (or not applicable by the rule), every other step of its
// file left out by the filter, and nothing else wrong: no error outside the step, a clean teardown, exit 0. Else its
// problem says what went wrong, in one line after its state.
export function aloneVerdict(listed: Listed, run: Run & Pick<LabsRun, "seconds">) {
  const own = run.result.steps.find(({ file, fullName }) => file === listed.file && fullName === listed.fullName);
  const problem = problemOf(listed, own, run);
  return {
    step: listed,
    title: own?.title ?? listed.fullName,
    state: own?.state ?? ("missing" as const),
    ...(problem !== undefined && { problem }),
    seconds: run.seconds,
  };
}

const labFile = (file: string) => file.replace(/^specs\//, "").replace(/\.spec\.ts$/, "");

export function aloneTable(verdicts: Alone[], width = 100): string {
  const rows = verdicts.map(({ step, title, state, problem, seconds }) => {
    const alone = problem ? `**${state}**: ${cell(problem, width)}` : state;
    return `| ${labFile(step.file)} | ${cell(title, width)} | ${alone} | ${seconds.toFixed(1)} |`;
  });
  return ["| Lab | Step | Alone | s |", "| --- | --- | --- | ---: |", ...rows].join("\n");
}
