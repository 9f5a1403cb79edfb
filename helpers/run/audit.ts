import type { Docker } from "../engine/client.ts";
import { eachLine } from "../util/lines.ts";
import { LOOPBACK, publishAddress } from "./for-this-run.ts";
import { RUN_LABEL } from "./identity.ts";
import { removeRunResources } from "./ownership.ts";

// Follows the engine's events for the run's own containers: the book's `-p` publishes on every interface, so every
// port is checked for the run's publish address (loopback where the engine is local); an image's VOLUME gives a container an unlabelled anonymous volume, so the run notes
// the ones it saw mounted in its own containers, and only those are its to remove.
export async function startRunAudit(docker: Docker, runId: string, onEngineLost: (error: Error) => void) {
  const violations: string[] = [];
  const allowed = new Set([LOOPBACK, await publishAddress()]);
  const ownVolumes = new Set<string>();
  const filters = JSON.stringify({ type: ["container"], event: ["create", "start"], label: [`${RUN_LABEL}=${runId}`] });
  const events = (await docker.getEvents({ filters })) as NodeJS.ReadableStream & { destroy(): void };
  let finishing = false;
  let engineLost = false;
  const lost = (error?: Error) => {
    if (finishing) return;
    engineLost = true;
    onEngineLost(error ?? new Error("the engine closed its event stream"));
  };
  events.once("end", () => lost()).once("error", lost);
  // An event split across two chunks would be half a JSON document, and a throw here an unhandled rejection that
  // ends the runner with exit 1: whole lines only.
  eachLine(events, async (line) => {
    if (!line.trim()) return;
    const { id, Action } = JSON.parse(line) as { id: string; Action: string };
    const info = await docker
      .getContainer(id)
      .inspect()
      .catch(() => undefined);
    if (!info) return;
    for (const mount of info.Mounts) if (mount.Type === "volume" && mount.Name) ownVolumes.add(mount.Name);
    if (Action !== "start") return;
    for (const [port, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      for (const { HostIp, HostPort } of bindings ?? []) {
        if (!allowed.has(HostIp)) violations.push(`${info.Name.slice(1)} publishes ${port} on ${HostIp}:${HostPort}`);
      }
    }
  });

  return {
    async finish() {
      finishing = true;
      events.destroy();
      if (engineLost) return [];
      const leaks = [...(await removeRunResources(docker, runId)), ...(await removeVolumesLeft(docker, ownVolumes))];
      return [
        ...(leaks.length ? [`the run left ${leaks.length} resource(s) behind (now removed): ${leaks.join("; ")}`] : []),
        ...(violations.length ? [`ports published beyond loopback: ${violations.join("; ")}`] : []),
      ];
    },
  };
}

async function removeVolumesLeft(docker: Docker, owned: Set<string>): Promise<string[]> {
  const left: string[] = [];
  for (const name of owned) {
    const outcome = await docker
      .getVolume(name)
      .remove()
      .then(() => "removed")
      .catch((error: { statusCode?: number }) => (error.statusCode === 404 ? "gone" : "kept"));
    if (outcome !== "gone") left.push(`anonymous volume ${name.slice(0, 12)} of one of its containers (${outcome})`);
  }
  return left;
}
