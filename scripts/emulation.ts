// The emulation path the README promises an Apple-silicon reader, proven in the mirror-image case this amd64 machine
// can show: Lab 3-1 runs an arm64 build of its mysql stand-in, pulled for LABS_PLATFORM=linux/arm64 from a registry
// whose index lists only that platform, and reports "emulation: yes" from uname -m; asked for a platform the index
// lacks, the setup stops with one line. Everything runs on private engines that are thrown away; the machine's
// binfmt entries are only ever added to.
//
// node scripts/emulation.ts [--prepare]
// --prepare only builds (or finds up to date) the arm64 stand-ins' archive: .ci/run starts it in the background, at low
// priority, so that a cold build under QEMU overlaps the other steps rather than adding its minutes to theirs.
import { parseArgs } from "node:util";
import { catalogueEntry } from "../helpers/catalogue/entries.ts";
import { arm64OnlyRef } from "./emulation/arm64-registry.ts";
import { ARM64, arm64CacheUpToDate, arm64MySql, CACHE } from "./emulation/arm64-stand-in.ts";
import { ensureBinfmt } from "./emulation/binfmt.ts";
import { LABS_REPORTER, runLabs, type LabsRun } from "../helpers/child-runs/run-labs.ts";
import { abortOnSignals, signalExitCode } from "../helpers/util/processes.ts";
import { since, timed as timedWork } from "../helpers/util/time.ts";
import { engineName, stopOrphanedEngines } from "../helpers/private-engines/orphans.ts";
import { problemsOf } from "./engines/table.ts";
import { dockerApi } from "../helpers/engine/client.ts";
import { copyImages, startPrivateEngine, type EngineOptions } from "../helpers/private-engines/lifecycle.ts";
import type { PrivateEngine } from "../helpers/private-engines/lifecycle.ts";

const PREFIX = "emulation";
const LAB = "lab-3-1-mysql";
const say = (line: string) => console.log(`emulation: ${line}`);
const cancelled = abortOnSignals((signal) =>
  console.error(`emulation: ${signal}, stopping the build or labs, then the engines`),
);
const timings: string[] = [];

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const { value, seconds } = await timedWork(work);
  timings.push(`${what} ${seconds.toFixed(1)} s`);
  say(`${what}: ${seconds.toFixed(1)} s`);
  return value;
}

const labsRun = (env: NodeJS.ProcessEnv) =>
  runLabs({ files: [LAB], env, signal: cancelled, reporters: [LABS_REPORTER], echo: true });

async function onEngine<T>(what: string, o: Omit<EngineOptions, "name">, work: (e: PrivateEngine) => Promise<T>) {
  const engine = await timed(`start ${o.engine} (${what})`, () =>
    startPrivateEngine({ ...o, name: engineName(PREFIX, what), quiet: true }),
  );
  try {
    return await work(engine);
  } finally {
    await timed(`stop ${what}`, () => engine.stop());
  }
}

// Asked for a platform the index does not list, the global setup must stop before any step, in one line.
function wrongPlatformProblems(run: LabsRun): string[] {
  const lines = run.output.split("\n").filter((line) => /Could not pull/.test(line));
  const stack = run.output.split("\n").some((line) => /^\s+at /.test(line));
  if (run.exitCode !== 0 && run.result.steps.length === 0 && lines.length === 1 && /s390x/.test(lines[0]!) && !stack) {
    say(`linux/s390x stopped the setup with one line: ${lines[0]!.trim()}`);
    return [];
  }
  return [`linux/s390x: expected one "Could not pull" line and no step; exit ${run.exitCode}, ${lines.length} lines`];
}

function emulatedProblems(run: LabsRun): string[] {
  const step = run.result.steps.find(({ title }) => title.startsWith("docker pull --platform"));
  const observed = step?.observed.find((line) => /emulation:/.test(line)) ?? "(no platform line)";
  say(`linux/arm64, ${LAB} platform step: ${observed}`);
  const problems = problemsOf({ name: ARM64, run, timings: [] });
  if (!/uname -m aarch64\b/.test(observed) || !/emulation: yes/.test(observed)) {
    problems.push(`${ARM64}: the platform step did not report aarch64 with emulation: ${observed}`);
  }
  return problems;
}

async function prepare(): Promise<number> {
  if (await arm64CacheUpToDate()) {
    say(`${CACHE} is up to date: nothing to build`);
    return 0;
  }
  await onEngine("prepare", { engine: "docker28" }, async (builder) => {
    const arm64 = await timed("arm64 mysql stand-in (cache load, build)", () =>
      arm64MySql(builder.docker, cancelled, say),
    );
    say(arm64.built.length ? `built ${arm64.built.join(", ")}` : "nothing to build");
  });
  return cancelled.aborted ? signalExitCode(cancelled) : 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { prepare: { type: "boolean" } } });
  const started = performance.now();
  ensureBinfmt("qemu-aarch64", say);
  await stopOrphanedEngines(PREFIX, say);
  if (values.prepare) return prepare();
  // Docker 20.10 imports and commits every image as its own platform; Docker 28 keeps the base's linux/arm64.
  const problems = await onEngine("build", { engine: "docker28" }, async (builder) => {
    const docker = builder.docker;
    const arm64 = await timed("arm64 mysql stand-in (cache load, build)", () => arm64MySql(docker, cancelled, say));
    const s = arm64.seconds;
    say(
      `${arm64.built.length ? `cold: built ${arm64.built.join(", ")}` : "warm: nothing to build"} ` +
        `(load ${s.load.toFixed(1)} s, base ${s.base.toFixed(1)} s, mysql ${s.mysql.toFixed(1)} s, save ${s.save.toFixed(1)} s)`,
    );
    const registry = catalogueEntry("registry:2").standIn;
    await timed("copy the registry stand-in", async () => copyImages(await dockerApi(), builder.docker, [registry]));
    const ref = await timed("push and index", () => arm64OnlyRef(docker, arm64.ref, say));
    return onEngine("pull", { engine: "docker20" }, async (puller) => {
      const env = {
        ...puller.env,
        LABS_IMAGES: "local",
        LABS_IMAGE_MAP: JSON.stringify({ "mysql:5.7": ref }),
        TESTCONTAINERS_RYUK_DISABLED: "true",
      };
      // The wrong platform first: once the arm64 image is pulled, the engine has a copy and nothing is pulled.
      const wrong = await timed("lab 3-1, linux/s390x", () => labsRun({ ...env, LABS_PLATFORM: "linux/s390x" }));
      const right = await timed("lab 3-1, linux/arm64", () => labsRun({ ...env, LABS_PLATFORM: ARM64 }));
      return [...wrongPlatformProblems(wrong), ...emulatedProblems(right)];
    });
  });
  say(`${timings.join(", ")}; total ${since(started).toFixed(1)} s`);
  for (const problem of problems) console.error(`emulation: ${problem}`);
  if (cancelled.aborted) return signalExitCode(cancelled);
  return problems.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`emulation: ${error.message.split("\n")[0]}`);
    process.exit(1);
  },
);
