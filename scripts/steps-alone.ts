// LABS.md's promise that each step runs alone and the labs pass in any order, as a check. Every lab step that
// `vitest list` finds runs by itself, one vitest run per step filtered to its file and its escaped, anchored full
// name, several at once; then one run of every lab with vitest's shuffle of files and tests. Prints the table of
// steps and writes it to reports/steps-alone.md; exits 1 unless every step passed alone (or was not applicable by
// the rule) and the shuffled run is green.
//
// node scripts/steps-alone.ts [--at-once N] [--seed N] [--only alone|shuffled] [filter ...]
// --seed replays a shuffled run's order; filters are spec file filters, as `npm run labs -- 3-3` takes them.
import { mkdir, writeFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../helpers/child-runs/child.ts";
import { counts, type RunResult, type StepState } from "../helpers/vitest/run-results.ts";
import { lastLines, listSteps, onlySteps, problemsOfRun, runLabs } from "../helpers/child-runs/run-labs.ts";
import type { Listed } from "../helpers/child-runs/run-labs.ts";
import { inPool } from "../helpers/util/pool.ts";
import { abortOnSignals, signalExitCode } from "../helpers/util/processes.ts";
import { since, timed } from "../helpers/util/time.ts";
import { aloneTable, aloneVerdict, type Alone } from "./steps-alone/judge.ts";

const USAGE = "node scripts/steps-alone.ts [--at-once N] [--seed N] [--only alone|shuffled] [filter ...]";
const REPORT = join(ROOT, "reports", "steps-alone.md");
// Measured on 2 cores (README, "Each step alone, and the labs in any order"): 2, 3, 4 and 6 at once took 394, 345,
// 280 and 297 s; past 4, each run only waits longer for the CPU and the engine.
const AT_ONCE = 4;
const PHASES = ["alone", "shuffled"] as const;
// On the stand-ins unless told otherwise, as .ci/run's other lab runs: no registry answers here.
const LABS_ENV = {
  LABS_IMAGES: process.env.LABS_IMAGES ?? "local",
  TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? "true",
};

const signal = abortOnSignals((name) => console.error(`steps-alone: ${name}, stopping the lab runs`));
const say = (line: string) => console.log(`steps-alone: ${line}`);

const indented = (text: string, by: number) => text.replace(/^/gm, " ".repeat(by));

class UsageError extends Error {}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { "at-once": { type: "string" }, seed: { type: "string" }, only: { type: "string" } },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nusage: ${USAGE}`);
  }
  const { values, positionals } = parsed;
  const whole = (name: string, text: string | undefined, min: number) => {
    const value = Number(text);
    if (text !== undefined && (!Number.isSafeInteger(value) || value < min))
      throw new UsageError(`--${name} ${text}: give a whole number of ${min} or more`);
    return text === undefined ? undefined : value;
  };
  const only = values.only;
  if (only !== undefined && !(PHASES as readonly string[]).includes(only))
    throw new UsageError(`--only ${only}: give ${PHASES.join(" or ")}`);
  return {
    atOnce: whole("at-once", values["at-once"], 1) ?? AT_ONCE,
    seed: whole("seed", values.seed, 0) ?? Math.floor(Math.random() * 1e9),
    phases: only ? [only] : [...PHASES],
    filters: positionals,
  };
}

// Round-robin over the files, so that the runs at once are mostly of different labs and their containers.
function interleaved(steps: Listed[]): Listed[] {
  const queues = [...Map.groupBy(steps, ({ file }) => file).values()];
  const out: Listed[] = [];
  for (let index = 0; out.length < steps.length; index++)
    for (const queue of queues) if (queue[index]) out.push(queue[index]!);
  return out;
}

async function stepsAlone(steps: Listed[], atOnce: number): Promise<Alone[]> {
  const verdicts: Alone[] = [];
  await inPool(interleaved(steps), atOnce, signal, async (step) => {
    const run = await runLabs({ files: [step.file], args: [onlySteps([step])], env: LABS_ENV, signal });
    if (signal.aborted) return;
    const verdict = aloneVerdict(step, run);
    verdicts.push(verdict);
    const what = `${basename(step.file, ".spec.ts")} > ${verdict.title}`;
    console.log(`  ${verdict.state.padEnd(14)} ${run.seconds.toFixed(1).padStart(5)} s  ${what}`);
    if (verdict.problem) console.log(`    ${verdict.problem}\n    its last lines:\n${indented(lastLines(run, 12), 6)}`);
  });
  return verdicts.sort((a, b) => steps.indexOf(a.step) - steps.indexOf(b.step));
}

const fileOrder = (result: RunResult) =>
  result.files
    .filter(({ times }) => times?.startedAt)
    .sort((a, b) => a.times!.startedAt! - b.times!.startedAt!)
    .map(({ file }) => basename(file, ".spec.ts"));

async function main(): Promise<number> {
  const { atOnce: asked, seed, phases, filters } = options();
  // The book's host ports are one per machine: two runs of one lab at once would both want them.
  const atOnce = process.env.LABS_BOOK_PORTS === "1" ? 1 : asked;
  if (atOnce !== asked) say("LABS_BOOK_PORTS=1: one step at a time, since each run needs the book's host ports");
  const started = performance.now();
  const summary: string[] = [];
  const report: string[] = [];
  let problems = 0;

  if (phases.includes("alone")) {
    const listed = await listSteps({ env: LABS_ENV, signal });
    const steps = listed.filter(({ file }) => filters.length === 0 || filters.some((filter) => file.includes(filter)));
    if (steps.length === 0) throw new UsageError(`no lab step in a file matching ${filters.join(", ")}`);
    say(`${steps.length} steps from vitest list, each run alone, ${atOnce} at once`);
    const { value: verdicts, seconds: wall } = await timed(() => stepsAlone(steps, atOnce));
    signal.throwIfAborted();
    const sum = verdicts.reduce((total, { seconds }) => total + seconds, 0);
    const failing = verdicts.filter(({ problem }) => problem);
    problems += failing.length;
    const states = (state: StepState) => verdicts.filter((v) => v.state === state && !v.problem).length;
    const line =
      `${verdicts.length} steps alone, ${atOnce} at once: ${states("passed")} passed, ` +
      `${states("not applicable")} not applicable, ${failing.length} with a problem, in ${wall.toFixed(0)} s ` +
      `(${sum.toFixed(0)} s of runs)`;
    const table = aloneTable(verdicts);
    console.log(`\n${table}\n`);
    say(line);
    summary.push(line);
    report.push(`## Each step alone\n\n${line}.\n\n${table}\n`);
  }

  if (phases.includes("shuffled")) {
    const replay = `node scripts/steps-alone.ts --only shuffled --seed ${seed}`;
    say(`one run of the labs in shuffled order, seed ${seed} (replay: ${replay})`);
    const run = await runLabs({
      files: filters,
      args: ["--sequence.shuffle", `--sequence.seed=${seed}`],
      env: LABS_ENV,
      signal,
    });
    signal.throwIfAborted();
    const found = problemsOfRun(run);
    problems += found.length;
    const order = fileOrder(run.result);
    const line =
      `shuffled, seed ${seed}: ${counts(run.result.steps, true)}, ${found.length} problem(s), in ` +
      `${run.seconds.toFixed(0)} s`;
    say(line);
    say(`files started in the order ${order.join(", ")}`);
    for (const problem of found) console.log(`  ${problem}`);
    if (found.length > 0) console.log(`  its last lines:\n${indented(lastLines(run, 20), 4)}`);
    summary.push(line);
    report.push(
      `## One shuffled run\n\n${line}. Files started in the order ${order.join(", ")}; replay with \`${replay}\`.\n` +
        (found.length ? `\n${found.map((problem) => `- ${problem}`).join("\n")}\n` : ""),
    );
  }

  const verdict = problems === 0 ? "green" : `${problems} problem(s)`;
  const line = `${summary.join("; ")}; ${verdict} in ${since(started).toFixed(0)} s`;
  await mkdir(join(ROOT, "reports"), { recursive: true });
  await writeFile(
    REPORT,
    `# Steps alone and shuffled\n\n${new Date().toISOString()}: ${line}.\n\n${report.join("\n")}`,
  );
  say(`${line}; written to ${relative(ROOT, REPORT)}`);
  return problems === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(signal.aborted ? signalExitCode(signal) : code),
  (error: unknown) => {
    if (!signal.aborted) console.error(`steps-alone: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(signal.aborted ? signalExitCode(signal) : error instanceof UsageError ? 2 : 1);
  },
);
