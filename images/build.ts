// Builds the local stand-in images from Debian packages: `npm run images:build [--force] [recipe ...]`.
// An image whose recipe hash matches its label is kept; everything else is rebuilt, base first.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { CATALOGUE, STAND_IN_BASE, STAND_IN_LABELS, type StandIn } from "../helpers/catalogue/entries.ts";
import { engineClient, type Docker } from "../helpers/engine/client.ts";
import { engineFacts } from "../helpers/engine/facts.ts";
import { importedBaseId } from "./base.ts";
import { BuildFailed, imageBuiltFrom, removeIfUntagged } from "./engine-build.ts";
import { RECIPES, recipeHash, recipesWanted } from "./recipes.ts";

const PARALLEL_BUILDS = 3;
const COLD_TARGET_S = 240;
const WARM_TARGET_S = 10;
const STEP_LINE_WIDTH = 110;

type Outcome = "built" | "up to date";

const cancel = new AbortController();

function say(recipe: string, message: string): void {
  console.log(`[${recipe}] ${message}`);
}

function fitted(line: string): string {
  return line.length > STEP_LINE_WIDTH ? `${line.slice(0, STEP_LINE_WIDTH - 3)}...` : line;
}

async function build(docker: Docker, entry: StandIn, hash: string, forced: boolean): Promise<string> {
  if (entry.standIn === STAND_IN_BASE) {
    const labels = `${STAND_IN_LABELS.for}="${entry.official}" ${STAND_IN_LABELS.lacks}="" ${STAND_IN_LABELS.recipe}="${hash}"`;
    return importedBaseId(docker, {
      ref: entry.standIn,
      changes: [`LABEL ${labels}`, 'CMD ["bash"]'],
      signal: cancel.signal,
      say: (line) => say(entry.recipe, line),
    });
  }
  return imageBuiltFrom(docker, join(RECIPES, entry.recipe), {
    tag: entry.standIn,
    labels: { [STAND_IN_LABELS.recipe]: hash },
    nocache: forced,
    signal: cancel.signal,
    // The step containers' and images' ids are how anyone watching (or cleaning up after) the build finds them.
    onLine: (line) => say(entry.recipe, fitted(line)),
  });
}

async function ensure(docker: Docker, entry: StandIn, hash: string, forced: boolean): Promise<Outcome> {
  const previous = await docker
    .getImage(entry.standIn)
    .inspect()
    .catch(() => undefined);
  if (!forced && previous?.Config.Labels?.[STAND_IN_LABELS.recipe] === hash) return "up to date";
  const started = performance.now();
  say(entry.recipe, `building ${entry.standIn} (stand-in for ${entry.official})`);
  await build(docker, entry, hash, forced).catch((error: unknown) => {
    throw error instanceof BuildFailed ? new BuildFailed(`[${entry.recipe}] ${error.message}`) : error;
  });
  say(entry.recipe, `built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return "built";
}

// A rebuilt stand-in leaves the one it replaced untagged, once no container runs from it any more; removing it
// (the engine then drops its untagged parents, a replaced base among them) keeps the disk from filling up.
async function removeFormerStandIns(docker: Docker): Promise<void> {
  const filters = JSON.stringify({ dangling: ["true"], label: [STAND_IN_LABELS.recipe] });
  for (const { Id } of await docker.listImages({ filters })) await removeIfUntagged(docker, Id);
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const failures: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined && !cancel.signal.aborted; item = queue.shift()) {
      await work(item).catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failures.length > 0) throw failures[0];
}

async function main(): Promise<void> {
  const { wanted, forced, forLocalRuns } = recipesWanted(process.argv.slice(2));
  if (forLocalRuns && process.env.LABS_IMAGES !== "local") {
    console.log(`stand-ins: LABS_IMAGES=${process.env.LABS_IMAGES ?? "auto"}, so nothing is built before the labs`);
    return;
  }
  const client = await engineClient();
  const docker = client.container.dockerode;
  const engine = await engineFacts(client);
  console.log(`stand-ins: building on Docker ${engine.version} (${engine.os}/${engine.arch}) at ${engine.endpoint}`);

  const started = performance.now();
  const outcomes = new Map<string, Outcome>();
  const base = CATALOGUE.find(({ standIn }) => standIn === STAND_IN_BASE)!;
  try {
    outcomes.set(
      base.recipe,
      await ensure(docker, base, await recipeHash(join(RECIPES, base.recipe), ""), forced.has(base.recipe)),
    );
    const baseId = (await docker.getImage(base.standIn).inspect()).Id;
    await inParallel(
      wanted.filter((entry) => entry !== base),
      PARALLEL_BUILDS,
      async (entry) => {
        const hash = await recipeHash(join(RECIPES, entry.recipe), baseId);
        outcomes.set(entry.recipe, await ensure(docker, entry, hash, forced.has(entry.recipe)));
      },
    );
  } finally {
    await removeFormerStandIns(docker);
  }

  const seconds = (performance.now() - started) / 1000;
  for (const [recipe, outcome] of outcomes) console.log(`  ${recipe.padEnd(9)} ${outcome}`);
  const built = [...outcomes.values()].filter((outcome) => outcome === "built").length;
  const [kind, target] =
    outcomes.get(base.recipe) === "built"
      ? ["cold build", COLD_TARGET_S]
      : built === 0
        ? ["no-change rebuild", WARM_TARGET_S]
        : ["partial rebuild", COLD_TARGET_S];
  console.log(
    `benchmark: ${kind} of ${outcomes.size} stand-ins in ${seconds.toFixed(1)} s (${built} built) ` +
      `on ${availableParallelism()} cores; target < ${target} s: ${seconds < target ? "met" : "MISSED"}`,
  );
}

const finished = main();

// Ctrl-C or SIGTERM: the aborted requests make the engine cancel its builds (and remove their step containers),
// the aborted children end debootstrap and tar, and each build removes what it had made before the exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    console.error(`stand-ins: ${signal}, stopping the builds`);
    cancel.abort();
    await finished.catch(() => undefined);
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

finished.catch((error: unknown) => {
  if (cancel.signal.aborted) return;
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
