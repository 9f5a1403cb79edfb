import { spawn } from "node:child_process";
import { join } from "node:path";
import type { Docker } from "../engine/client.ts";
import { HOST_LABEL, isRunAlive, RUN_LABEL } from "./identity.ts";
import { removeRunResources } from "./ownership.ts";

export async function runsOnEngine(docker: Docker): Promise<Map<string, string | undefined>> {
  const filters = JSON.stringify({ label: [RUN_LABEL] });
  const labelled = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listImages({ filters }),
  ]);
  const labels = labelled.flat().map(({ Labels }) => Labels ?? {});
  return new Map(labels.filter((label) => label[RUN_LABEL]).map((label) => [label[RUN_LABEL]!, label[HOST_LABEL]]));
}

// A run whose process and guardian are both gone (SIGKILL, a reboot) is cleaned by the next run on the engine.
export async function sweepEndedRuns(docker: Docker): Promise<string[]> {
  const swept: string[] = [];
  for (const [runId, host] of await runsOnEngine(docker)) {
    if (isRunAlive(runId, host)) continue;
    const found = await removeRunResources(docker, runId);
    if (found.length) swept.push(`run ${runId}: ${found.join(", ")}`);
  }
  return swept;
}

// guardian.ts cleans up after this run once its process is gone: detached, so that it outlives the runner however
// the runner ends.
export function startGuardian(runId: string): void {
  spawn(process.execPath, [join(import.meta.dirname, "guardian.ts"), runId], {
    detached: true,
    stdio: "ignore",
  }).unref();
}
