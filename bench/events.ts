// The run's containers as the engine saw them: created, started, died, and (via readiness.ts) ready, in the engine's
// clock; and the anonymous volumes they left behind.
import type { IncomingMessage } from "node:http";
import { engineJson, engineRequest } from "./engine.ts";
import { awaitReady, type ImageInspect, type Tracked } from "./readiness.ts";

interface EngineEvent {
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

// Follows the engine's events for the containers of one run (labs.run=<id>, known once the global setup prints it).
export class EngineWatch {
  containers = new Map<string, Tracked>();
  runId?: string;
  private pending = new Set<Promise<void>>();
  private streams: IncomingMessage[] = [];
  private images = new Map<string, Promise<ImageInspect | undefined>>();
  // Every labs.run container's run, seen before the run id is known too (the global setup starts one), and which
  // container mounted which volume: to find the anonymous volumes a run leaves behind.
  private runOf = new Map<string, string>();
  private mountedBy = new Map<string, string>();

  async start(): Promise<void> {
    await this.subscribe(
      { type: ["container"], label: ["labs.run"], event: ["create", "start", "die", "destroy"] },
      (event) => this.onEvent(event),
    );
    await this.subscribe({ type: ["volume"], event: ["mount"] }, (event) => {
      const container = event.Actor.Attributes.container;
      if (container) this.mountedBy.set(event.Actor.ID, container);
    });
  }

  private async subscribe(filters: Record<string, string[]>, onEvent: (event: EngineEvent) => void): Promise<void> {
    const stream = await engineRequest(`/events?filters=${encodeURIComponent(JSON.stringify(filters))}`);
    this.streams.push(stream);
    let partial = "";
    stream.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onEvent(JSON.parse(line) as EngineEvent);
    });
    stream.on("error", () => undefined);
  }

  async stop(): Promise<void> {
    // Followers end when their container is removed; give stragglers a moment, then cut them off.
    await Promise.race([Promise.all(this.pending), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    for (const stream of this.streams) stream.destroy();
  }

  // Anonymous volumes that containers of the run mounted and that no container uses any more: removed, and named.
  async removeLeakedVolumes(): Promise<string[]> {
    const listing = await engineJson<{ Volumes: { Name: string }[] | null }>(
      `/volumes?filters=${encodeURIComponent(JSON.stringify({ dangling: ["true"] }))}`,
    );
    const dangling = new Set((listing?.Volumes ?? []).map(({ Name }) => Name));
    const leaked = [...this.mountedBy].filter(
      ([volume, container]) =>
        this.runOf.get(container) === this.runId && dangling.has(volume) && /^[0-9a-f]{64}$/.test(volume),
    );
    const removed: string[] = [];
    for (const [volume] of leaked) {
      const response = await engineRequest(`/volumes/${volume}`, "DELETE");
      response.resume();
      if (response.statusCode === 204) removed.push(volume.slice(0, 12));
    }
    return removed;
  }

  private onEvent(event: EngineEvent): void {
    const at = event.timeNano / 1e6;
    const { ID: id, Attributes: attributes } = event.Actor;
    if (attributes["labs.run"]) this.runOf.set(id, attributes["labs.run"]);
    if (!this.runId || attributes["labs.run"] !== this.runId) return;
    let tracked = this.containers.get(id);
    if (!tracked) {
      tracked = {
        id,
        name: attributes.name ?? id.slice(0, 12),
        image: attributes.image ?? "",
        session: attributes["org.testcontainers.session-id"],
        runId: attributes["labs.run"],
        readiness: "start",
      };
      this.containers.set(id, tracked);
    }
    if (event.Action === "create") tracked.createdAt = at;
    if (event.Action === "start" && tracked.startedAt === undefined) {
      tracked.startedAt = at;
      this.follow(tracked);
    }
    if (event.Action === "die" || event.Action === "destroy") tracked.diedAt ??= at;
  }

  private follow(tracked: Tracked): void {
    const work = awaitReady(tracked, (ref) => this.imageConfig(ref)).catch(() => undefined);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private imageConfig(ref: string): Promise<ImageInspect | undefined> {
    let found = this.images.get(ref);
    if (!found) {
      found = engineJson<ImageInspect>(`/images/${encodeURIComponent(ref)}/json`);
      this.images.set(ref, found);
    }
    return found;
  }
}
