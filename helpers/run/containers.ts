import { randomBytes } from "node:crypto";
import { GenericContainer } from "testcontainers";
import { dockerApi } from "../engine/client.ts";
import { labelsFor } from "./identity.ts";
import { LogTail } from "./logs.ts";

export const LOOPBACK = "127.0.0.1";

const HANDLE_LABEL = "labs.container";

// The book's `-p 8001:80` publishes on every interface, which would expose a lab's database or the host's
// metrics to the network; every container of a run publishes on loopback only and carries the run's label.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function forThisRun<Base extends new (...args: any[]) => GenericContainer>(
  base: Base,
  labels: () => Record<string, string>,
): Base {
  return class extends base {
    private logs = new LogTail(String(this.createOpts.Image));

    private readonly handle = randomBytes(6).toString("hex");

    protected override async beforeContainerCreated(): Promise<void> {
      for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
        for (const binding of bindings as { HostIp?: string }[]) binding.HostIp = LOOPBACK;
      }
      this.withLabels({ ...labels(), [HANDLE_LABEL]: this.handle });
      this.logs.name = this.createOpts.name ?? this.logs.name;
      this.withLogConsumer((stream) => this.logs.follow(stream));
    }

    // testcontainers leaves a container that was created but failed to start or to become ready; its name would
    // then block every retry of the fixture.
    override async start() {
      try {
        return await super.start();
      } catch (error) {
        const docker = await dockerApi();
        const filters = JSON.stringify({ label: [`${HANDLE_LABEL}=${this.handle}`] });
        for (const { Id } of await docker.listContainers({ all: true, filters }).catch(() => [])) {
          await docker
            .getContainer(Id)
            .remove({ force: true, v: true })
            .catch(() => undefined);
        }
        throw error;
      }
    }
  } as Base;
}

// For the run's harness, which starts a container before any worker can `inject` the run's id.
export const containerOfRun = (runId: string) => forThisRun(GenericContainer, () => labelsFor(runId));
