// `npm run bench`: what the suite costs beyond its containers' own start time, side by side with the same labs done
// by a plain sequential bash script of docker CLI commands (bench/labs.sh).
//
// 1. Runs the lab suite (vitest --project labs on the stand-ins) once, timed from spawn to exit, while it samples
//    the memory of the test process tree every 100 ms and follows the engine's events for the run's containers.
// 2. Runs bench/labs.sh, timed the same way.
// 3. Prints a Markdown table per lab, the suite / script ratio, the median per-step overhead and the runner's peak
//    memory against the targets of issue 8, and the machine it ran on.
//
// `node scripts/bench.ts [--warmup] [--steps] [--suite-only]`: --warmup first does one untimed run of each to warm
// the page cache and the engine; --steps adds a table of every step (duration, its containers' start-to-ready,
// overhead); --suite-only skips the script (for tuning the suite: no script column, no ratio).
// Exits 0 when a target is missed (it measures, it does not judge), 1 when the suite or the script fails.
// BENCH_DEBUG=<file> writes every container's events and ready time and every step's timing there as JSON.
//
// The parts live in bench/: engine.ts (the engine's API), memory.ts (the sampler), events.ts and readiness.ts (the
// run's containers), runs.ts (the two timed runs), timing.ts (attribution and overheads), report.ts (the output).
import { writeFileSync } from "node:fs";
import { ENGINE_ADDRESS } from "../bench/engine.ts";
import { capture, tail } from "../bench/processes.ts";
import { benchReport, leftOnEngine, s } from "../bench/report.ts";
import { runScript, runSuite } from "../bench/runs.ts";
import { attribute, labContainers } from "../bench/timing.ts";
import { CATALOGUE } from "../helpers/catalogue/entries.ts";

const args = new Set(process.argv.slice(2));
const WARMUP = args.has("--warmup");
const STEPS = args.has("--steps");
const SUITE_ONLY = args.has("--suite-only");

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

// Both runs need the engine and every stand-in: without them the suite would fail (or pull) instead of measuring.
async function preflight(): Promise<boolean> {
  if (!(await capture("docker", ["version", "--format", "{{.Server.Version}}"]))) {
    console.error(`bench: no Docker engine answers at ${ENGINE_ADDRESS}: start one`);
    return false;
  }
  const missing: string[] = [];
  for (const { standIn } of CATALOGUE) {
    if (!(await capture("docker", ["image", "inspect", "--format", "{{.Id}}", standIn]))) missing.push(standIn);
  }
  if (missing.length > 0) {
    console.error(`bench: the stand-in image(s) ${missing.join(", ")} are not built: run \`npm run images:build\``);
    return false;
  }
  return true;
}

async function main(): Promise<number> {
  if (!(await preflight())) return 1;

  if (WARMUP) {
    log("warm-up: one untimed run of the suite and of the script");
    const suite = await runSuite();
    const script = await runScript();
    if (suite.finished.code !== 0 || script.finished.code !== 0) log("warm-up run failed; measuring anyway");
    if (suite.leakedVolumes.length) log(`warm-up: removed ${suite.leakedVolumes.length} volume(s) the suite left`);
  }

  log("running the suite: vitest run --project labs (LABS_IMAGES=local) ...");
  const suite = await runSuite();
  if (suite.finished.code !== 0 || !suite.timings || !suite.report) {
    console.error(tail(`${suite.finished.stdout}\n${suite.finished.stderr}`));
    console.error(`bench: the suite failed (exit ${suite.finished.code}); no benchmark`);
    return 1;
  }
  log(`suite: ${s(suite.finished.wallMs)} s${SUITE_ONLY ? "" : "; running bench/labs.sh ..."}`);
  const script = SUITE_ONLY ? undefined : await runScript();
  if (script && script.finished.code !== 0) {
    console.error(tail(`${script.finished.stdout}\n${script.finished.stderr}`));
    console.error(`bench: bench/labs.sh failed (exit ${script.finished.code}); no benchmark`);
    return 1;
  }
  if (script) log(`script: ${s(script.finished.wallMs)} s`);

  const modules = suite.timings.modules;
  const { containers, buildSteps } = labContainers(suite.watch.containers.values(), suite.runId);
  const who = attribute(modules, containers);
  if (process.env.BENCH_DEBUG) {
    writeFileSync(process.env.BENCH_DEBUG, JSON.stringify({ containers, modules }, null, 2));
  }
  const measured = { suite, report: suite.report, modules, script, containers, buildSteps, who };
  console.log(await benchReport(measured, { warmup: WARMUP, steps: STEPS }));
  console.log(await leftOnEngine(suite));
  return 0;
}

process.exitCode = await main();
