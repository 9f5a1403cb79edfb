import { randomBytes } from "node:crypto";
import { GenericContainer, getReaper } from "testcontainers";
import { dockerApi, endpointOf, engineClient } from "../engine/client.ts";
import { LOOPBACK, publishAddressFor } from "../engine/reach.ts";
import { LogTail } from "./logs.ts";

export { LOOPBACK };

const HANDLE_LABEL = "labs.container";

let published: Promise<string> | undefined;
// The address every container of the run publishes on: 127.0.0.1 where the engine shares the runner's machine, the
// engine's own address where it is on another one (see engine/reach.ts).
export const publishAddress = async () =>
  (published ??= dockerApi().then((docker) => publishAddressFor(endpointOf(docker))));

// testcontainers' getReaper takes a machine-wide file lock the first time a process starts a container, and keeps
// only its result: containers started at once would each take the lock, and each that lost would try again only after
// 500 ms or more (testcontainers-node#887). The first asks; the others wait for it. Where it fails, the container's own
// start says why.
let reaperAsked: Promise<unknown> | undefined;
const reaperOnce = () =>
  (reaperAsked ??= engineClient()
    .then(getReaper)
    .catch(() => undefined));

const engineLoopback = new WeakSet<GenericContainer>();
// A service the engine itself talks to (the search index, like the run's registry) must be on the engine's loopback
// too: the engine trusts a plain-HTTP registry only there.
export function alsoOnEngineLoopback<Container extends GenericContainer>(container: Container): Container {
  engineLoopback.add(container);
  return container;
}

// The host port `port` is published on at `address`, as the engine recorded it: with two bindings (the engine's
// loopback beside the runner's address) testcontainers' getMappedPort names only one of them.
export async function publishedPort(containerId: string, port: number, address: string): Promise<number> {
  const { NetworkSettings } = await (await dockerApi()).getContainer(containerId).inspect();
  const binding = (NetworkSettings.Ports[`${port}/tcp`] ?? []).find(({ HostIp }) => HostIp === address);
  if (!binding) throw new Error(`${containerId.slice(0, 12)} publishes no ${port}/tcp on ${address}`);
  return Number(binding.HostPort);
}

// The book's `-p 8001:80` publishes on every interface, which would expose a lab's database or the host's
// metrics to the network; every container of a run publishes on the one address the runner reaches (loopback where the
// engine is local) and carries the run's label.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function forThisRun<Base extends new (...args: any[]) => GenericContainer>(
  base: Base,
  labels: () => Record<string, string>,
): Base {
  return class extends base {
    private logs = new LogTail(String(this.createOpts.Image));

    private readonly handle = randomBytes(6).toString("hex");

    protected override async beforeContainerCreated(): Promise<void> {
      const [address] = await Promise.all([publishAddress(), reaperOnce()]);
      const bindings = (this.hostConfig.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[]>;
      for (const [port, [first, ...more]] of Object.entries(bindings)) {
        if (more.length || !first) throw new Error(`${port}: one binding per port, the run decides its address`);
        first.HostIp = address;
        if (address !== LOOPBACK && engineLoopback.has(this)) bindings[port]!.push({ HostIp: LOOPBACK, HostPort: "" });
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
