import type Dockerode from "dockerode";
import { HOST_LABEL, isRunAlive, RUN_LABEL } from "./run.ts";

const notFound = (error: { statusCode?: number }) => {
  if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
};

interface Resource {
  description: string;
  remove: () => Promise<unknown>;
}

// Everything the run created: containers (removed with their anonymous volumes), networks, volumes, images, and
// the tags it put on other images (their names carry the run id).
export async function findRun(docker: Dockerode, runId: string): Promise<Resource[]> {
  const filters = JSON.stringify({ label: [`${RUN_LABEL}=${runId}`] });
  const found: Resource[] = [];
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

export async function removeRun(docker: Dockerode, runId: string): Promise<string[]> {
  const found = await findRun(docker, runId);
  for (const resource of found) await resource.remove().catch(notFound);
  return found.map(({ description }) => description);
}

export async function runsOnEngine(docker: Dockerode): Promise<Map<string, string | undefined>> {
  const filters = JSON.stringify({ label: [RUN_LABEL] });
  const runs = new Map<string, string | undefined>();
  const note = (labels: Record<string, string> | undefined) => {
    const runId = labels?.[RUN_LABEL];
    if (runId) runs.set(runId, labels[HOST_LABEL]);
  };
  for (const info of await docker.listContainers({ all: true, filters })) note(info.Labels);
  for (const info of await docker.listNetworks({ filters })) note(info.Labels);
  for (const info of await docker.listImages({ filters })) note(info.Labels ?? undefined);
  return runs;
}

export async function sweepDeadRuns(docker: Dockerode): Promise<string[]> {
  const swept: string[] = [];
  for (const [runId, host] of await runsOnEngine(docker)) {
    if (isRunAlive(runId, host)) continue;
    const found = await removeRun(docker, runId);
    if (found.length) swept.push(`run ${runId}: ${found.join(", ")}`);
  }
  return swept;
}
