import { spawn } from "node:child_process";
import { join } from "node:path";
import type { Docker } from "../engine/client.ts";
import { HOST_LABEL, isRunAlive, RUN_LABEL } from "./identity.ts";
import { removeRunResources } from "./ownership.ts";

export async function runsOnEngine(docker: Docker): Promise<Map<string, string | undefined>> {
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
