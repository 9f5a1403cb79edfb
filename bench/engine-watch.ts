// The containers of one suite run as the engine saw them (create, start, die, in the engine's clock) and when each
// first answered the bench's own probe. Other engineers' runs share the engine: only the run whose id the suite
// printed is probed and kept.
import { eachLine } from "../helpers/util/lines.ts";
import { dockerApi } from "../helpers/engine/client.ts";
import { RUN_LABEL, SPEC_LABEL } from "../helpers/run/identity.ts";
import { firstAnswer, probeFor } from "./probe.ts";

const SESSION_LABEL = "org.testcontainers.session-id";
const PROBE_LIMIT_MS = 120_000;

export interface Seen {
  id: string;
  name: string;
  image: string;
  runId: string;
  // The spec file that created it, as the suite labels its containers; the testcontainers session for the rest.
  spec?: string;
  session?: string;
  createdAt?: number;
  startedAt?: number;
  diedAt?: number;
  // Removal is what ends a file-scoped container at the file's end, even one a step stopped earlier.
  destroyedAt?: number;
  readyAt?: number;
  // How readyAt was found: a probe that answered, the start of a container that published nothing, or never.
  readiness?: "mysql" | "http" | "start" | "never";
}

interface EngineEvent {
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

export class EngineWatch {
  private seen = new Map<string, Seen>();
  private probes = new Set<Promise<void>>();
  private runId?: string;
  private stream?: NodeJS.ReadableStream & { destroy?: () => void };

  async start(): Promise<void> {
    const docker = await dockerApi();
    this.stream = await docker.getEvents({
      filters: { type: ["container"], label: [RUN_LABEL], event: ["create", "start", "die", "destroy"] },
    });
    eachLine(this.stream, (line) => line.trim() && this.onEvent(JSON.parse(line) as EngineEvent));
    this.stream.on("error", () => undefined);
  }

  // The run id is known only once the global setup prints it; its containers started before that are probed now.
  follow(runId: string): void {
    if (this.runId) return;
    this.runId = runId;
    for (const container of this.seen.values()) if (container.startedAt !== undefined) this.probe(container);
  }

  async stop(): Promise<Seen[]> {
    await Promise.race([Promise.all(this.probes), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    this.stream?.destroy?.();
    // The legacy builder creates a container for each metadata-only Dockerfile step and never starts it: such a
    // container has nothing to get ready.
    return [...this.seen.values()].filter(
      ({ runId, createdAt, startedAt }) => runId === this.runId && createdAt !== undefined && startedAt !== undefined,
    );
  }

  private onEvent({ Action, Actor, timeNano }: EngineEvent): void {
    const at = timeNano / 1e6;
    let container = this.seen.get(Actor.ID);
    if (!container) {
      const labels = Actor.Attributes;
      container = {
        id: Actor.ID,
        name: labels.name ?? Actor.ID.slice(0, 12),
        image: labels.image ?? "",
        runId: labels[RUN_LABEL] ?? "",
        spec: labels[SPEC_LABEL],
        session: labels[SESSION_LABEL],
      };
      this.seen.set(Actor.ID, container);
    }
    if (Action === "create") container.createdAt = at;
    if (Action === "start" && container.startedAt === undefined) {
      container.startedAt = at;
      if (container.runId === this.runId) this.probe(container);
    }
    if (Action === "die" || Action === "destroy") container.diedAt ??= at;
    if (Action === "destroy") container.destroyedAt = at;
  }

  // The probe measures from the create event; it can only start asking once the start has bound the ports.
  private probe(container: Seen): void {
    const work = (async () => {
      const docker = await dockerApi();
      const info = await docker.getContainer(container.id).inspect();
      const probe = probeFor({
        image: info.Config.Image,
        standInFor: info.Config.Labels?.["labs.stand-in.for"],
        ports: info.NetworkSettings.Ports ?? {},
      });
      if (!probe) {
        container.readyAt = container.startedAt;
        container.readiness = "start";
        return;
      }
      const deadline = Date.now() + PROBE_LIMIT_MS;
      container.readyAt = await firstAnswer(probe, () => container.diedAt !== undefined || Date.now() > deadline);
      container.readiness = container.readyAt === undefined ? "never" : probe.kind;
    })().catch(() => {
      // removed before it could be inspected: a one-shot container, ready (and done) at its start
      container.readyAt ??= container.startedAt;
      container.readiness ??= "start";
    });
    this.probes.add(work);
    void work.finally(() => this.probes.delete(work));
  }
}
