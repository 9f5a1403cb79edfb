// `npm run bench [-- --rounds N] [-- --service-only]`: each target of issue 26 measured above its floor, in the same
// round: vitest's own empty run, the service labs 3-1, 3-2 and 3-3 under vitest, the same checks as a plain bash
// script, then (unless --service-only) every lab. It measures, it does not judge: a missed target exits 0, a failed
// run is named, left out, and exits 1.
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { dockerApi } from "../helpers/engine/client.ts";
import { CATALOGUE } from "../helpers/catalogue/entries.ts";
import { figures } from "../bench/figures.ts";
import { machine } from "../bench/machine.ts";
import { DEFINITIONS, labs, runs, largest, targets, type Round } from "../bench/report.ts";
import { runBaseline, runEmpty, runSuite, type Timed } from "../bench/runs.ts";
import { machineBusyMs } from "../bench/sampler.ts";
import { cadvisorWindowMs } from "../bench/windows.ts";

const SERVICE_SPECS = ["lab-3-1-mysql", "lab-3-2-cadvisor", "lab-3-3-nginx"].map((lab) => `specs/${lab}.spec.ts`);
const IDLE_MS = 2_000;

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function options() {
  try {
    const { values } = parseArgs({
      options: { rounds: { type: "string", default: "2" }, "service-only": { type: "boolean", default: false } },
      strict: true,
    });
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1)
      throw new Error(`--rounds wants a whole number ≥ 1, not ${values.rounds}`);
    return { rounds, serviceOnly: values["service-only"] };
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\nusage: npm run bench -- [--rounds N] [--service-only]`);
    process.exit(2);
  }
}

// Without the engine or a stand-in the runs would fail (or pull) instead of measuring.
async function preflight(): Promise<boolean> {
  if (process.platform !== "linux") {
    console.error(
      `bench: it reads CPU and memory from /proc, which ${process.platform} does not have: run it on Linux, beside a local engine`,
    );
    return false;
  }
  const docker = await dockerApi().catch((error: Error) => void console.error(`bench: ${error.message}`));
  if (!docker) return false;
  const inspected = await Promise.allSettled(CATALOGUE.map(({ standIn }) => docker.getImage(standIn).inspect()));
  const missing = CATALOGUE.filter((_, index) => inspected[index]!.status === "rejected").map(({ standIn }) => standIn);
  if (missing.length) console.error(`bench: not built: ${missing.join(", ")}: run \`npm run images:build\``);
  return missing.length === 0;
}

const failures: string[] = [];
async function measured<T extends Timed>(what: string, run: () => Promise<T>): Promise<T | undefined> {
  log(`${what} ...`);
  const done = await run();
  if (done.ok) return done;
  console.error(done.why);
  failures.push(what);
  log(`${what} failed: left out`);
  return undefined;
}

// Busy CPU with none of our runs going: the share of the machine other people's work takes.
async function idleBusyPerMs(): Promise<number> {
  const before = machineBusyMs();
  await sleep(IDLE_MS);
  return (machineBusyMs() - before) / IDLE_MS;
}

async function main(): Promise<number> {
  const { rounds: count, serviceOnly } = options();
  if (!(await preflight())) return 1;
  const rounds: Round[] = [];
  for (let round = 1; round <= count; round++) {
    const idle = await idleBusyPerMs();
    const empty = await measured(`round ${round}: vitest's empty run`, () => runEmpty());
    const stackEmpty = await measured(`round ${round}: the empty run with testcontainers`, () => runEmpty(true));
    const service = await measured(`round ${round}: the service labs`, () => runSuite(SERVICE_SPECS));
    const baseline = await measured(`round ${round}: bench/baseline.sh`, () => runBaseline(cadvisorWindowMs()));
    const whole = serviceOnly ? undefined : await measured(`round ${round}: every lab`, () => runSuite());
    if (!empty || !stackEmpty || !service || !baseline || (!serviceOnly && !whole)) continue;
    rounds.push({
      idleBusyPerMs: idle,
      empty: figures(empty),
      stackEmpty: figures(stackEmpty),
      service: figures(service),
      baseline: figures(baseline),
      ...(whole && { whole: figures(whole) }),
    });
  }
  const whole = rounds.flatMap(({ whole }) => whole ?? []);
  const widest = whole.length ? whole : rounds.map(({ service }) => service);
  const out = [`Machine: ${await machine()}; ${rounds.length} round(s), each figure their median (range).`];
  if (rounds.length) {
    out.push("", "### Targets", "", ...targets(rounds), "", "### Runs", "", ...runs(rounds));
    out.push("", "### Labs", "", ...labs(widest), "", `Slowest steps: ${largest(widest, "steps")}.`);
    out.push("", `Containers by CPU: ${largest(widest, "containers")}.`);
    out.push("", ...DEFINITIONS);
  }
  if (failures.length) out.push("", `**Failed runs, left out:** ${failures.join("; ")}.`);
  console.log(out.join("\n"));
  return failures.length ? 1 : 0;
}

process.exitCode = await main();
