import { relative } from "node:path";
import type { Docker } from "../../helpers/engine/client.ts";
import { pollUntil } from "../../helpers/util/poll.ts";
import { imageBuiltFrom } from "../../helpers/stand-ins/recipe-build.ts";
import { ROOT, type Mutant } from "./declarations.ts";

// Every image a run of this script builds carries its run id, so that it removes exactly those and nobody else's.
const MUTANTS_RUN_LABEL = "labs.mutants.run";
const GONE_WITHIN_MS = 20_000;

export function mutantRef(mutant: Mutant, runId: string): string {
  return `labs-mutant/${mutant.name}:${runId}`;
}

export async function buildMutant(docker: Docker, mutant: Mutant, runId: string, signal: AbortSignal): Promise<void> {
  try {
    await imageBuiltFrom(docker, mutant.folder, {
      tag: mutantRef(mutant, runId),
      labels: { [MUTANTS_RUN_LABEL]: runId, "labs.mutant": mutant.name },
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new Error(`${relative(ROOT, mutant.folder)}: ${(error as Error).message}`, { cause: error });
  }
}

// A lab run's guardian removes its containers a moment after the run ends; until then they hold the image.
export async function removeMutantImages(docker: Docker, runId: string): Promise<string[]> {
  const filters = JSON.stringify({ label: [`${MUTANTS_RUN_LABEL}=${runId}`] });
  const left = async () => (await docker.listImages({ filters })).map(({ Id }) => Id);
  const removed = async () => {
    await Promise.allSettled((await left()).map((id) => docker.getImage(id).remove({ force: true })));
    return (await left()).length === 0 ? [] : undefined;
  };
  return (await pollUntil(removed, { timeoutMs: GONE_WITHIN_MS, intervalMs: 500 })) ?? (await left());
}
