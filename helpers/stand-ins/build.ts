// Builds the local stand-in images from Debian packages: an image whose recipe hash matches its label is kept,
// everything else is rebuilt, base first. scripts/build-stand-ins.ts is its command line; a run in LABS_IMAGES=auto
// calls it for the stand-ins it lacks.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { CATALOGUE, STAND_IN_BASE, STAND_IN_LABELS, type StandIn } from "../catalogue/entries.ts";
import type { Docker } from "../engine/client.ts";
import { inPool } from "../util/pool.ts";
import { since } from "../util/time.ts";
import { importedBaseId } from "./base.ts";
import { BuildFailed, imageBuiltFrom, removeIfUntagged } from "./recipe-build.ts";
import { RECIPES, recipeHash } from "./recipes.ts";

const PARALLEL_BUILDS = 3;
const STEP_LINE_WIDTH = 110;
const COLD_TARGET_S = 240;
const WARM_TARGET_S = 10;

export type Outcome = "built" | "up to date";

export interface StandInBuild {
  wanted: readonly StandIn[];
  forced?: ReadonlySet<string>;
  signal: AbortSignal;
  // One line of progress, e.g. the engine's build output, for the recipe it is about.
  say: (recipe: string, line: string) => void;
}

const BASE = CATALOGUE.find(({ standIn }) => standIn === STAND_IN_BASE)!;

const fitted = (line: string) => (line.length > STEP_LINE_WIDTH ? `${line.slice(0, STEP_LINE_WIDTH - 3)}...` : line);

function build(docker: Docker, entry: StandIn, hash: string, forced: boolean, o: StandInBuild): Promise<string> {
  if (entry.standIn === STAND_IN_BASE) {
    const labels = `${STAND_IN_LABELS.for}="${entry.official}" ${STAND_IN_LABELS.lacks}="" ${STAND_IN_LABELS.recipe}="${hash}"`;
    return importedBaseId(docker, {
      ref: entry.standIn,
      changes: [`LABEL ${labels}`, 'CMD ["bash"]'],
      signal: o.signal,
      say: (line) => o.say(entry.recipe, line),
    });
  }
  return imageBuiltFrom(docker, join(RECIPES, entry.recipe), {
    tag: entry.standIn,
    labels: { [STAND_IN_LABELS.recipe]: hash },
    nocache: forced,
    signal: o.signal,
    // The step containers' and images' ids are how anyone watching (or cleaning up after) the build finds them.
    onLine: (line) => o.say(entry.recipe, fitted(line)),
  });
}

async function ensure(docker: Docker, entry: StandIn, hash: string, o: StandInBuild): Promise<Outcome> {
  const forced = o.forced?.has(entry.recipe) ?? false;
  const previous = await docker
    .getImage(entry.standIn)
    .inspect()
    .catch(() => undefined);
  if (!forced && previous?.Config.Labels?.[STAND_IN_LABELS.recipe] === hash) return "up to date";
  const started = performance.now();
  o.say(entry.recipe, `building ${entry.standIn} (stand-in for ${entry.official})`);
  await build(docker, entry, hash, forced, o).catch((error: unknown) => {
    throw error instanceof BuildFailed ? new BuildFailed(`[${entry.recipe}] ${error.message}`) : error;
  });
  o.say(entry.recipe, `built in ${since(started).toFixed(1)} s`);
  return "built";
}

// A rebuilt stand-in leaves the one it replaced untagged, once no container runs from it any more; removing it
// (the engine then drops its untagged parents, a replaced base among them) keeps the disk from filling up.
async function removeFormerStandIns(docker: Docker): Promise<void> {
  const filters = JSON.stringify({ dangling: ["true"], label: [STAND_IN_LABELS.recipe] });
  for (const { Id } of await docker.listImages({ filters })) await removeIfUntagged(docker, Id);
}

// The base always, as every other recipe stands on it; then the wanted ones, three at a time.
export async function buildStandIns(docker: Docker, o: StandInBuild): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const failures: unknown[] = [];
  try {
    outcomes.set(BASE.recipe, await ensure(docker, BASE, await recipeHash(join(RECIPES, BASE.recipe), ""), o));
    const baseId = (await docker.getImage(BASE.standIn).inspect()).Id;
    await inPool(
      o.wanted.filter((entry) => entry !== BASE),
      PARALLEL_BUILDS,
      o.signal,
      async (entry) => {
        const hash = await recipeHash(join(RECIPES, entry.recipe), baseId);
        await ensure(docker, entry, hash, o).then(
          (outcome) => void outcomes.set(entry.recipe, outcome),
          (error: unknown) => void failures.push(error),
        );
      },
    );
  } finally {
    await removeFormerStandIns(docker);
  }
  if (failures.length > 0) throw failures[0];
  return outcomes;
}

// The build in one line, against its targets: a cold build (the base from Debian's archive) in 4 minutes on 2 cores,
// a build that finds every recipe unchanged in 10 s.
export function buildSummary(outcomes: Map<string, Outcome>, seconds: number): string {
  const built = [...outcomes.values()].filter((outcome) => outcome === "built").length;
  const [kind, target] =
    outcomes.get(BASE.recipe) === "built"
      ? ["cold build", COLD_TARGET_S]
      : built === 0
        ? ["no-change rebuild", WARM_TARGET_S]
        : ["partial rebuild", COLD_TARGET_S];
  return (
    `benchmark: ${kind} of ${outcomes.size} stand-ins in ${seconds.toFixed(1)} s (${built} built) ` +
    `on ${availableParallelism()} cores; target < ${target} s: ${seconds < target ? "met" : "MISSED"}`
  );
}
