import { catalogueEntry, type StandIn } from "../catalogue/entries.ts";
import type { Plan } from "../catalogue/plan.ts";
import type { Docker } from "../engine/client.ts";
import { engineMessage } from "../engine/errors.ts";
import { buildStandIns, buildSummary } from "../stand-ins/build.ts";
import { since } from "../util/time.ts";

const AVAILABILITY_MS = 10_000;

const present = (docker: Docker, ref: string) =>
  docker
    .getImage(ref)
    .inspect()
    .then(
      () => true,
      () => false,
    );

// Whether an official image can be had is the engine's question, not Node's: the engine pulls through the user's
// mirrors, proxy and credentials, which Node knows nothing of. A local copy counts too.
async function engineCanHave(docker: Docker, ref: string): Promise<string | undefined> {
  if (await present(docker, ref)) return undefined;
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${AVAILABILITY_MS / 1000} s`)), AVAILABILITY_MS).unref(),
  );
  return Promise.race([docker.getImage(ref).distribution({}), timeout]).then(
    () => undefined,
    (error: unknown) => engineMessage(error),
  );
}

// For LABS_IMAGES=auto: the official reference of each image the engine can have, and why it cannot have the others.
export async function officialAvailability(docker: Docker, entries: readonly StandIn[]): Promise<Map<string, string>> {
  const reasons = await Promise.all(entries.map(({ official }) => engineCanHave(docker, official)));
  return new Map(entries.flatMap(({ official }, index) => (reasons[index] ? [[official, reasons[index]]] : [])));
}

// LABS_IMAGES=auto on a machine with an engine and no registry: build the stand-ins it lacks, with the progress
// lines `npm run images:build` prints, rather than stop. Where the build cannot run, its own one line says why.
export async function buildMissingStandIns(docker: Docker, plans: Plan[]): Promise<void> {
  const missing = [];
  for (const plan of plans.filter(({ why }) => why === "stand-in")) {
    if (!(await present(docker, plan.ref))) missing.push(catalogueEntry(plan.official));
  }
  if (missing.length === 0) return;
  const recipes = missing.map(({ recipe }) => recipe).join(", ");
  console.log(`images: building the stand-ins this run needs and lacks: ${recipes}`);
  const started = performance.now();
  await buildStandIns(docker, {
    wanted: missing,
    signal: new AbortController().signal,
    say: (recipe, line) => console.log(`[${recipe}] ${line}`),
  }).then(
    (outcomes) => console.log(buildSummary(outcomes, since(started))),
    (error: Error) => {
      throw new Error(`LABS_IMAGES=auto could not build the stand-ins ${recipes}: ${error.message.split("\n")[0]}`);
    },
  );
}
