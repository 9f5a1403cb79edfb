// The labs on every engine CI can start here, one after the other: the default engine (DOCKER_HOST or the default
// socket), then private engines beside it (Docker 28 with the classic and with the containerd image store, at API
// 1.44, Docker 20.10 over tcp:// with TLS, rootless Docker 20.10, Podman 4.3.1), each with the stand-ins copied in
// from the default engine and stopped (its data root removed) however the run ends.
// Prints and writes reports/engines.md: engine × lab, the steps of each kind; exits 1 unless all green.
//
// node scripts/engines.ts [--engines default,docker28,docker28-containerd] [--default-from results.json] [filter ...]
// --default-from takes the default engine's row from a run already made with LABS_RESULTS_FILE (.ci/run's `npm test`)
// or from a report folder's results.json, rather than running the same labs on the same engine again.
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CATALOGUE } from "../helpers/catalogue/entries.ts";
import { readRunResult } from "../helpers/vitest/run-results.ts";
import { LABS_REPORTER, runLabs } from "../helpers/child-runs/run-labs.ts";
import { dockerApi, endpointOf } from "../helpers/engine/client.ts";
import { copyImages, startPrivateEngine, type EngineOptions } from "../helpers/private-engines/lifecycle.ts";
import { abortOnSignals, signalExitCode } from "../helpers/util/processes.ts";
import { since } from "../helpers/util/time.ts";
import { engineName, stopOrphanedEngines } from "../helpers/private-engines/orphans.ts";
import { matrixMarkdown, problemsOf, type EngineRun } from "./engines/table.ts";

const ENGINES = {
  default: undefined,
  docker28: { engine: "docker28" },
  "docker28-containerd": { engine: "docker28", containerdStore: true },
  // Docker 29.0–29.2's floor, on the newest engine this machine has.
  "docker28-api144": { engine: "docker28", minApiVersion: "1.44" },
  // An engine on another machine: a network namespace of the run's own, reached over tcp:// with TLS.
  "docker20-remote-tls": { engine: "docker20", remote: true },
  // Debian 12's rootless Docker: dockerd-rootless.sh as an unprivileged user, RootlessKit and slirp4netns.
  "docker20-rootless": { engine: "docker20", rootless: true },
  // Debian 12's Podman 4.3.1, rootful, serving the Docker API on a socket of its own.
  podman4: { engine: "podman4" },
} satisfies Record<string, Omit<EngineOptions, "name"> | undefined>;
type EngineName = keyof typeof ENGINES;

const REPORT = "reports/engines.md";
const PREFIX = "matrix";
// The labs run on the stand-ins everywhere: no registry answers here, and every engine gets the same images.
const LABS_ENV = { LABS_IMAGES: "local", TESTCONTAINERS_RYUK_DISABLED: "true" };
const STAND_INS = CATALOGUE.map(({ standIn }) => standIn);
const say = (line: string) => console.log(`\n== engines: ${line}`);
// Ctrl-C reaches the labs' own process too; either way the labs stop, then the engine that ran them.
const cancelled = abortOnSignals((signal) =>
  console.error(`engines: ${signal}, stopping the labs and then the engine`),
);
const labsOn = (env: NodeJS.ProcessEnv, filters: string[]) =>
  runLabs({ files: filters, env: { ...LABS_ENV, ...env }, signal: cancelled, reporters: [LABS_REPORTER], echo: true });

function options(argv: string[]): { engines: EngineName[]; filters: string[]; defaultFrom?: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      engines: { type: "string", default: Object.keys(ENGINES).join(",") },
      "default-from": { type: "string" },
    },
  });
  const engines = values.engines.split(",").filter(Boolean);
  const unknown = engines.filter((name) => !Object.hasOwn(ENGINES, name));
  if (unknown.length || !engines.length) {
    throw new Error(`--engines ${values.engines}: pick from ${Object.keys(ENGINES).join(", ")}`);
  }
  return { engines: engines as EngineName[], filters: positionals, defaultFrom: values["default-from"] };
}

async function fromEarlierRun(name: string, file: string): Promise<EngineRun> {
  const result = await readRunResult(file).catch((error: Error) => {
    throw new Error(`--default-from ${file}: ${error.message}; run the labs with LABS_RESULTS_FILE=${file} first`);
  });
  say(`${name}: the labs' results of the run that wrote ${file}`);
  return { name, run: { result, exitCode: 0, output: "" }, timings: [] };
}

async function onDefault(name: string, filters: string[]): Promise<EngineRun> {
  const host = endpointOf(await dockerApi());
  say(`${name}: the labs on ${host}`);
  const run = await labsOn({}, filters);
  say(`${name}: labs in ${run.seconds.toFixed(1)} s`);
  return { name, run, timings: [["labs", run.seconds]] };
}

async function onPrivate(name: Exclude<EngineName, "default">, filters: string[]): Promise<EngineRun> {
  const timings: [string, number][] = [];
  const from = await dockerApi();
  let start = performance.now();
  const engine = await startPrivateEngine({ name: engineName(PREFIX, name), ...ENGINES[name], quiet: true }).catch(
    (error: Error) => error,
  );
  if (engine instanceof Error) return { name, error: `did not start: ${engine.message.split("\n")[0]}`, timings };
  try {
    timings.push(["start", since(start)]);
    say(`${name}: ${ENGINES[name].engine} started in ${since(start).toFixed(1)} s on ${engine.host}`);
    start = performance.now();
    await copyImages(from, engine.docker, STAND_INS);
    timings.push(["copy", since(start)]);
    say(`${name}: stand-ins copied from ${endpointOf(from)} in ${since(start).toFixed(1)} s`);
    if (cancelled.aborted) throw new Error("interrupted");
    const run = await labsOn({ ...engine.env }, filters);
    timings.push(["labs", run.seconds]);
    say(`${name}: labs in ${run.seconds.toFixed(1)} s`);
    return { name, run, timings };
  } catch (error) {
    return { name, error: (error as Error).message.split("\n")[0], timings };
  } finally {
    start = performance.now();
    await engine.stop();
    timings.push(["stop", since(start)]);
    say(`${name}: stopped and its data root removed in ${since(start).toFixed(1)} s`);
  }
}

async function main(): Promise<number> {
  const { engines, filters, defaultFrom } = options(process.argv.slice(2));
  await stopOrphanedEngines(PREFIX, say);
  const runs: EngineRun[] = [];
  for (const name of engines) {
    if (cancelled.aborted) break;
    if (name !== "default") runs.push(await onPrivate(name, filters));
    else runs.push(defaultFrom ? await fromEarlierRun(name, defaultFrom) : await onDefault(name, filters));
  }
  const table = matrixMarkdown(runs);
  await mkdir("reports", { recursive: true });
  await writeFile(REPORT, `# The labs on each engine\n\n${table}`);
  console.log(`\n${table}\n(written to ${REPORT})`);
  if (cancelled.aborted) return signalExitCode(cancelled);
  return runs.some((run) => problemsOf(run).length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`engines: ${error.message}`);
    process.exit(1);
  },
);
