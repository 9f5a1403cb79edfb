// The labs on every engine CI can start here, one after the other: the default engine (DOCKER_HOST or the default
// socket), then private engines beside it (Docker 28 with the classic and with the containerd image store, at API
// 1.44, Docker 20.10 over tcp:// with TLS, Podman 4.3.1), each with the stand-ins copied in from the default engine and
// stopped (its data root removed) however the run ends.
// Prints and writes reports/engines.md: engine × lab, passed / failed / not applicable; exits 1 unless all green.
//
// node scripts/engines.ts [--engines default,docker28,docker28-containerd] [--default-from results.json] [filter ...]
// --default-from takes the default engine's row from a run already made with LABS_MATRIX_OUT (.ci/run's `npm test`),
// rather than running the same labs on the same engine again.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CATALOGUE } from "../helpers/catalogue/entries.ts";
import { dockerApi, endpointOf } from "../helpers/engine/client.ts";
import { copyImages, startPrivateEngine } from "../helpers/private-engines/engine.ts";
import { engineName, stopOrphans } from "./engines/orphans.ts";
import type { EngineOptions } from "../helpers/private-engines/engine.ts";
import type { MatrixResult } from "../helpers/vitest/matrix-reporter.ts";
import { runLabs } from "./engines/run-labs.ts";
import { matrixMarkdown, problemsOf, type EngineRun } from "./engines/table.ts";

const ENGINES = {
  default: undefined,
  docker28: { engine: "docker28" },
  "docker28-containerd": { engine: "docker28", containerdStore: true },
  // Docker 29.0–29.2's floor, on the newest engine this machine has.
  "docker28-api1.44": { engine: "docker28", minApiVersion: "1.44" },
  // An engine on another machine: a network namespace of the run's own, reached over tcp:// with TLS.
  "docker20-remote-tls": { engine: "docker20", remote: true },
  // Debian 12's Podman 4.3.1, rootful, serving the Docker API on a socket of its own.
  podman4: { engine: "podman4" },
} satisfies Record<string, Omit<EngineOptions, "name"> | undefined>;
type EngineName = keyof typeof ENGINES;

const REPORT = "reports/engines.md";
const PREFIX = "matrix";
// The labs run on the stand-ins everywhere: no registry answers here, and every engine gets the same images.
const LABS_ENV = { LABS_IMAGES: "local", TESTCONTAINERS_RYUK_DISABLED: "true" };
const cancel = new AbortController();
const since = (start: number) => (performance.now() - start) / 1000;
const say = (line: string) => console.log(`\n== engines: ${line}`);

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
  const text = await readFile(file, "utf8").catch((error: Error) => {
    throw new Error(`--default-from ${file}: ${error.message}; run the labs with LABS_MATRIX_OUT=${file} first`);
  });
  const result = JSON.parse(text) as MatrixResult;
  say(`${name}: the labs' results of the run that wrote ${file}`);
  return { name, run: { ...result, exitCode: 0, output: "", seconds: 0 }, timings: [] };
}

async function onDefault(name: string, filters: string[]): Promise<EngineRun> {
  const host = endpointOf(await dockerApi());
  say(`${name}: the labs on ${host}`);
  const run = await runLabs(LABS_ENV, filters, cancel.signal);
  say(`${name}: labs in ${run.seconds.toFixed(1)} s`);
  return { name, run, timings: [["labs", run.seconds]] };
}

async function onPrivate(name: Exclude<EngineName, "default">, filters: string[]): Promise<EngineRun> {
  const timings: [string, number][] = [];
  const from = await dockerApi();
  let start = performance.now();
  const engine = await startPrivateEngine({
    name: engineName(PREFIX, name),
    ...ENGINES[name],
    quiet: true,
  }).catch((error: Error) => error);
  if (engine instanceof Error) return { name, error: `did not start: ${engine.message.split("\n")[0]}`, timings };
  try {
    timings.push(["start", since(start)]);
    say(`${name}: ${ENGINES[name].engine} started in ${since(start).toFixed(1)} s on ${engine.host}`);
    start = performance.now();
    await copyImages(
      from,
      engine.docker,
      CATALOGUE.map(({ standIn }) => standIn),
    );
    timings.push(["copy", since(start)]);
    say(`${name}: stand-ins copied from ${endpointOf(from)} in ${since(start).toFixed(1)} s`);
    if (cancel.signal.aborted) throw new Error("interrupted");
    const run = await runLabs({ ...LABS_ENV, ...engine.env }, filters, cancel.signal);
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
  await stopOrphans(PREFIX, say);
  const runs: EngineRun[] = [];
  for (const name of engines) {
    if (cancel.signal.aborted) break;
    if (name !== "default") runs.push(await onPrivate(name, filters));
    else runs.push(defaultFrom ? await fromEarlierRun(name, defaultFrom) : await onDefault(name, filters));
  }
  const table = matrixMarkdown(runs);
  await mkdir("reports", { recursive: true });
  await writeFile(REPORT, `# The labs on each engine\n\n${table}`);
  console.log(`\n${table}\n(written to ${REPORT})`);
  if (cancel.signal.aborted) return 130;
  return runs.some((run) => problemsOf(run).length > 0) ? 1 : 0;
}

// Ctrl-C reaches the labs' own process too; either way the labs stop, then the engine that ran them.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (!cancel.signal.aborted) console.error(`engines: ${signal}, stopping the labs and then the engine`);
    cancel.abort();
  });
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`engines: ${error.message}`);
    process.exit(1);
  },
);
