// The containers of one suite run as the engine saw them (create, start, destroy, on the engine's clock), when each
// first answered the bench's own probe, and the CPU its cgroup used. Other people's runs share the engine: only the
// containers of the run that the watched vitest process owns (its pid is in the run id) are kept.
import { setTimeout as sleep } from "node:timers/promises";
import { dockerApi } from "../helpers/engine/client.ts";
import { RUN_LABEL, SPEC_LABEL, runOwnerPid } from "../helpers/run/identity.ts";
import { eachLine } from "../helpers/util/lines.ts";
import { firstAnswer, probeFor } from "./probe.ts";
import { read } from "./sampler.ts";

const PROBE_LIMIT_MS = 120_000;
const CGROUP_EVERY_MS = 200;

export interface Seen {
  id: string;
  name: string; // the book's name, or the image of a container the suite did not name, without the run id
  runId: string;
  spec?: string; // the spec file that created it, as the suite labels its containers
  createdAt?: number;
  startedAt?: number;
  destroyedAt?: number;
  readyAt?: number;
  cpuMs: number;
  cgroup?: string;
}

interface EngineEvent {
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

// cgroup v1's cpuacct.usage (ns) or v2's cpu.stat usage_usec, of the cgroup the container's first process is in: one
// named by the container's id, or none (a process that ended and whose pid went to another).
function cgroupOf(id: string, pid: number): string | undefined {
  const lines = read(`/proc/${pid}/cgroup`).split("\n");
  const v1 = lines.find((line) => /^\d+:[^:]*\bcpuacct\b[^:]*:/.test(line))?.split(":");
  const file = v1 ? `/sys/fs/cgroup/${v1[1]}${v1[2]}/cpuacct.usage` : lines.find((line) => line.startsWith("0::"));
  if (!file?.includes(id)) return undefined;
  return v1 ? file : `/sys/fs/cgroup${file.slice(3)}/cpu.stat`;
}

// 0 for a cgroup not found, or gone with its container.
function cgroupCpuMs(file = ""): number {
  const text = file && read(file);
  if (!text) return 0;
  return file.endsWith("cpu.stat") ? Number(/^usage_usec (\d+)/m.exec(text)?.[1]) / 1e3 : Number(text) / 1e6;
}

// The probe measures from the create event; it can only start asking once the start has bound the ports.
async function probe(container: Seen): Promise<void> {
  try {
    const info = await (await dockerApi()).getContainer(container.id).inspect();
    container.cgroup = cgroupOf(container.id, info.State.Pid);
    const answers = probeFor(info);
    if (!answers) return void (container.readyAt = container.startedAt);
    const deadline = Date.now() + PROBE_LIMIT_MS;
    container.readyAt = await firstAnswer(answers, () => container.destroyedAt !== undefined || Date.now() > deadline);
  } catch {
    // removed before it could be inspected: a one-shot container, ready (and done) at its start
    container.readyAt ??= container.startedAt;
  }
}

// Watches from before the run starts; `follow` names the run's vitest process once it has one.
export async function watchEngine() {
  const [seen, probes] = [new Map<string, Seen>(), [] as Promise<void>[]];
  let ownerPid = 0;
  const onEvent = ({ Action, Actor, timeNano }: EngineEvent) => {
    const [labels, runId = ""] = [Actor.Attributes, Actor.Attributes[RUN_LABEL]];
    if (runOwnerPid(runId) !== ownerPid) return;
    const at = timeNano / 1e6;
    const container = seen.get(Actor.ID) ?? {
      id: Actor.ID,
      name: (labels.name?.endsWith(runId) ? labels.name : (labels.image ?? "")).replace(`-${runId}`, ""),
      runId,
      spec: labels[SPEC_LABEL],
      cpuMs: 0,
    };
    seen.set(Actor.ID, container);
    if (Action === "create") container.createdAt = at;
    if (Action === "destroy") container.destroyedAt = at;
    if (Action === "start" && container.startedAt === undefined) {
      container.startedAt = at;
      probes.push(probe(container));
    }
  };
  const filters = { type: ["container" as const], label: [RUN_LABEL], event: ["create", "start", "destroy"] };
  const stream = await (await dockerApi()).getEvents({ filters });
  eachLine(stream, (line) => line.trim() && onEvent(JSON.parse(line) as EngineEvent));
  stream.on("error", () => undefined);
  // A cgroup goes with its container: its last reading before that is what the container used.
  const timer = setInterval(() => {
    for (const container of seen.values()) container.cpuMs = Math.max(container.cpuMs, cgroupCpuMs(container.cgroup));
  }, CGROUP_EVERY_MS);

  return {
    follow: (pid: number) => void (ownerPid = pid),
    // The run's containers that started; the legacy builder creates one per metadata-only step and never starts it.
    async stop(runId?: string): Promise<Seen[]> {
      await Promise.race([Promise.all(probes), sleep(3_000)]);
      clearInterval(timer);
      (stream as NodeJS.ReadableStream & { destroy: () => void }).destroy();
      return [...seen.values()].filter((seen) => seen.runId === runId && seen.startedAt !== undefined);
    },
  };
}
