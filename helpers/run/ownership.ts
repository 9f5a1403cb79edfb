import type { Docker } from "../engine/client.ts";
import { engineMessage } from "../engine/errors.ts";
import { RUN_LABEL } from "./identity.ts";

// What the run can prove it created: containers (removed with their anonymous volumes), networks, volumes and images
// carrying its label, and the tags it put on other images (their names carry the run id). Nothing else.
export async function resourcesOfRun(docker: Docker, runId: string) {
  const filters = JSON.stringify({ label: [`${RUN_LABEL}=${runId}`] });
  const found: { description: string; remove: () => Promise<unknown> }[] = [];
  for (const info of await docker.listContainers({ all: true, filters })) {
    found.push({
      description: `container ${info.Names[0]?.slice(1) ?? info.Id} (${info.Image}, ${info.State})`,
      remove: () => docker.getContainer(info.Id).remove({ force: true, v: true }),
    });
  }
  for (const info of await docker.listNetworks({ filters })) {
    found.push({ description: `network ${info.Name}`, remove: () => docker.getNetwork(info.Id).remove() });
  }
  for (const info of (await docker.listVolumes({ filters })).Volumes ?? []) {
    found.push({ description: `volume ${info.Name}`, remove: () => docker.getVolume(info.Name).remove() });
  }
  for (const info of await docker.listImages()) {
    if (info.Labels?.[RUN_LABEL] === runId) {
      found.push({
        description: `image ${info.RepoTags?.[0] ?? info.Id}`,
        remove: () => docker.getImage(info.Id).remove({ force: true }),
      });
      continue;
    }
    for (const tag of (info.RepoTags ?? []).filter((name) => name.includes(`labs-${runId}/`))) {
      found.push({ description: `tag ${tag}`, remove: () => docker.getImage(tag).remove() });
    }
  }
  return found;
}

// A resource the engine refuses to remove (a mount still busy after an engine restart, say) is named and skipped,
// so that one stuck container never keeps the rest of a run on the engine. Removal races with the engine's own
// clean-up (404), and an image or network another run still uses (409) stays theirs.
export async function removeRunResources(docker: Docker, runId: string): Promise<string[]> {
  const removed: string[] = [];
  for (const { description, remove } of await resourcesOfRun(docker, runId)) {
    const refused = await remove().then(
      () => undefined,
      (error: { statusCode?: number }) =>
        [404, 409].includes(error.statusCode ?? 0) ? undefined : engineMessage(error),
    );
    removed.push(refused ? `${description} (could not remove: ${refused})` : description);
  }
  return removed;
}
