// The labs as a child run, read back through the one run model: the results reporter writes it to a file of the
// child's own, beside whatever reporters speak to people.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ROOT, startChild, VITEST, vitestCommand, type ChildRun } from "./child.ts";
import { RESULTS_FILE_VARIABLE } from "../vitest/results-reporter.ts";
import { exitCauses, readRunResult, unverified, type RunResult, type Step } from "../vitest/run-results.ts";

export const LABS_REPORTER = "./helpers/vitest/labs-reporter.ts";
const RESULTS_REPORTER = "./helpers/vitest/results-reporter.ts";
const NO_RESULT: RunResult = { outcome: "failed", files: [], steps: [], errors: [] };
export type Listed = Pick<Step, "file" | "fullName">;

interface LabsRequest {
  files?: string[]; // spec file filters, as `npm run labs -- 3-3` takes them
  args?: string[]; // more of vitest's options, e.g. a `--testNamePattern` or `--sequence.shuffle`
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  reporters?: string[]; // for people: their output is in `output`, and passed through with `echo`
  echo?: boolean;
  onStart?: (child: ChildRun) => void;
}

export type LabsRun = Awaited<ReturnType<typeof runLabs>>;

async function withTempFile<T>(work: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "labs-child-"));
  try {
    return await work(join(dir, "out.json"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// One run of the labs project. A run that ended before its reporters did (a setup that stopped, a signal) has no
// steps; its last lines say why.
export function runLabs(request: LabsRequest) {
  const { files = [], args = [], env, signal, reporters = [], echo, onStart } = request;
  return withTempFile(async (resultsFile) => {
    const reporting = [...reporters, RESULTS_REPORTER].map((reporter) => `--reporter=${reporter}`);
    const child = startChild(vitestCommand("--project", "labs", ...reporting, ...args, ...files), {
      env: { ...env, [RESULTS_FILE_VARIABLE]: resultsFile },
      ownGroup: false,
      ...(signal && { signal }),
      ...(echo && { echo }),
    });
    onStart?.(child);
    const { code: exitCode, exitedAt } = await child.exited;
    const result = await readRunResult(resultsFile).catch(() => NO_RESULT);
    const { launchedAt } = child; // epoch ms, as exitedAt
    return { result, exitCode, output: child.output(), launchedAt, exitedAt, seconds: (exitedAt - launchedAt) / 1000 };
  });
}

// vitest's `-t` is a regular expression over each step's full name ("describe > title"): every name escaped and
// anchored, so that the run holds these steps and no other.
export const onlyStep = (fullName: string): string => `^${fullName.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")}$`;
export const onlySteps = (steps: Listed[]): string =>
  `--testNamePattern=${[...new Set(steps.map(({ fullName }) => onlyStep(fullName)))].join("|")}`;

/** The last `n` non-empty lines a run printed: where it says why it stopped. */
export function lastLines(run: Pick<LabsRun, "output" | "exitCode">, n = 1): string {
  const lines = run.output.split("\n").filter((line) => line.trim());
  return lines.slice(-n).join("\n") || `exit ${run.exitCode}`;
}

/** Why a run is not green, one line each; empty when every step passed or was not applicable by the rule. */
export function problemsOfRun(run: Pick<LabsRun, "result" | "exitCode" | "output">): string[] {
  const problems = [...exitCauses(run.result), ...unverified(run.result)];
  if (run.result.steps.length === 0) problems.push(`the labs stopped before any step: ${lastLines(run)}`);
  else if (run.exitCode !== 0 && problems.length === 0)
    problems.push(`the run exited ${run.exitCode} with every step green: ${lastLines(run)}`);
  return problems;
}

// Every lab step with its spec file, collected by vitest itself (the global setup runs, no step and no fixture does).
export function listSteps({ env, signal }: Pick<LabsRequest, "env" | "signal">): Promise<Listed[]> {
  return withTempFile(async (json) => {
    const list = [VITEST, "list", "--project", "labs", "--no-staticParse", `--json=${json}`];
    const child = startChild(list, { env, ownGroup: false, ...(signal && { signal }) });
    await child.exited;
    signal?.throwIfAborted();
    const text = await readFile(json, "utf8").catch(() => {
      const tail = lastLines({ output: child.output(), exitCode: null }, 20);
      throw new Error(`vitest list wrote no JSON; its last output:\n  ${tail}`);
    });
    const listed = JSON.parse(text) as { name: string; file: string }[];
    return listed.map(({ name, file }) => ({ file: relative(ROOT, file), fullName: name }));
  });
}
