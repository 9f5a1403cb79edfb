// `npm run images:build [--force] [--for-local-runs] [recipe ...]`: builds the stand-ins (helpers/stand-ins/build.ts)
// with their progress, then one benchmark line; no recipe named means all of them, a typo is an error.
import { parseArgs } from "node:util";
import { CATALOGUE } from "../helpers/catalogue/entries.ts";
import { engineClient } from "../helpers/engine/client.ts";
import { engineFacts } from "../helpers/engine/facts.ts";
import { buildStandIns, buildSummary } from "../helpers/stand-ins/build.ts";
import { abortOnSignals, signalExitCode } from "../helpers/util/processes.ts";
import { since } from "../helpers/util/time.ts";

function wantedFrom(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { force: { type: "boolean", default: false }, "for-local-runs": { type: "boolean", default: false } },
  });
  const unknown = positionals.filter((name) => !CATALOGUE.some(({ recipe }) => recipe === name));
  if (unknown.length > 0) {
    const known = CATALOGUE.map(({ recipe }) => recipe).join(", ");
    throw new Error(`unknown recipe ${unknown.join(", ")}; recipes: ${known}`);
  }
  const wanted = CATALOGUE.filter(({ recipe }) => positionals.length === 0 || positionals.includes(recipe));
  const forced = new Set(values.force ? wanted.map(({ recipe }) => recipe) : []);
  return { wanted, forced, forLocalRuns: values["for-local-runs"] };
}

// Ctrl-C or SIGTERM: the aborted requests make the engine cancel its builds (and remove their step containers),
// the aborted children end debootstrap and tar, and each build removes what it had made before the exit.
const cancelled = abortOnSignals((signal) => console.error(`stand-ins: ${signal}, stopping the builds`));

async function main(): Promise<number> {
  const { wanted, forced, forLocalRuns } = wantedFrom(process.argv.slice(2));
  if (forLocalRuns && process.env.LABS_IMAGES !== "local") {
    console.log(`stand-ins: LABS_IMAGES=${process.env.LABS_IMAGES ?? "auto"}, so nothing is built before the labs`);
    return 0;
  }
  const client = await engineClient();
  const engine = await engineFacts(client);
  console.log(
    `stand-ins: building on ${engine.product} ${engine.version} (${engine.os}/${engine.arch}) at ${engine.endpoint}`,
  );
  const started = performance.now();
  const outcomes = await buildStandIns(client.container.dockerode, {
    wanted,
    forced,
    signal: cancelled,
    say: (recipe, line) => console.log(`[${recipe}] ${line}`),
  });
  for (const [recipe, outcome] of outcomes) console.log(`  ${recipe.padEnd(9)} ${outcome}`);
  console.log(buildSummary(outcomes, since(started)));
  return 0;
}

process.exitCode = await main().catch((error: unknown) => {
  if (cancelled.aborted) return signalExitCode(cancelled);
  console.error(error instanceof Error ? error.message : String(error));
  return 1;
});
