import { createServer, type AddressInfo } from "node:net";
import { buffer } from "node:stream/consumers";
import { pack } from "tar-stream";
import type { Docker } from "../engine/client.ts";
import { LOOPBACK } from "../engine/reach.ts";
import { pollUntil } from "../util/poll.ts";
import { RegistryApi } from "./api.ts";

const PORT = "5000/tcp";
const ANSWERS_WITHIN_MS = 30_000;

export interface RegistryOptions {
  image: string;
  labels?: Record<string, string>;
  // The host addresses its port is published on. Without any, it listens on 127.0.0.1 in the host's network, where
  // what goes in and out does not pass through docker-proxy (which halved the throughput on two cores), and keeps
  // what it holds on a tmpfs.
  publishOn?: string[];
  // Its container name and a network of its own of that name (its host name there), removed with it.
  network?: string;
  // Basic auth: the registry reads its htpasswd once, when it starts.
  htpasswd?: string;
}

export interface Registry extends AsyncDisposable {
  id: string;
  // "host:port" of the registry where `address` (one of publishOn, or 127.0.0.1 in the host's network) reaches it.
  at(address: string): string;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

const unlessGone = (error: { statusCode?: number }) => {
  if (error.statusCode !== 404) throw error;
};

type Network = Awaited<ReturnType<Docker["createNetwork"]>>;

async function startOn(docker: Docker, o: RegistryOptions, port: number, network?: Network) {
  const auth = { AUTH: "htpasswd", AUTH_HTPASSWD_REALM: "container-labs", AUTH_HTPASSWD_PATH: "/auth/htpasswd" };
  const env = { ...(o.publishOn ? {} : { HTTP_ADDR: `${LOOPBACK}:${port}` }), ...(o.htpasswd ? auth : {}) };
  const container = await docker.createContainer({
    Image: o.image,
    ...(o.network ? { name: o.network } : {}),
    Labels: o.labels ?? {},
    Env: Object.entries(env).map(([name, value]) => `REGISTRY_${name}=${value}`),
    ExposedPorts: { [PORT]: {} },
    HostConfig: o.publishOn
      ? { NetworkMode: o.network, PortBindings: { [PORT]: o.publishOn.map((HostIp) => ({ HostIp, HostPort: "" })) } }
      : { NetworkMode: "host", Tmpfs: { "/var/lib/registry": "" } },
  });
  const stop = async () => {
    await container.remove({ force: true, v: true }).catch(unlessGone);
    await network?.remove().catch(unlessGone);
  };
  try {
    if (o.htpasswd) {
      const archive = pack();
      archive.entry({ name: "auth/htpasswd" }, o.htpasswd);
      archive.finalize();
      await container.putArchive(await buffer(archive), { path: "/" });
    }
    await container.start();
    const ports = (await container.inspect()).NetworkSettings.Ports[PORT] ?? [];
    const at = (address: string) => {
      const published = o.publishOn
        ? ports.find(({ HostIp }) => HostIp === address)?.HostPort
        : address === LOOPBACK && port;
      if (!published) throw new Error(`the registry ${container.id.slice(0, 12)} is not reached at ${address}`);
      return `${address}:${published}`;
    };
    const api = new RegistryApi(at(o.publishOn?.[0] ?? LOOPBACK));
    const answered = await pollUntil(
      async () => {
        if (!(await container.inspect()).State.Running) return false;
        const { status } = await api.ask("GET", "/v2/").catch(() => ({ status: 0 }));
        return status ? true : undefined;
      },
      { timeoutMs: ANSWERS_WITHIN_MS },
    );
    if (answered === undefined) throw new Error(`the registry at ${api.base} did not answer within 30 s`);
    const logs = async () => (await container.logs({ stdout: true, stderr: true })).toString("latin1");
    // Exited: in the host's network, something else took the port between its choice and the registry's start.
    if (!answered && o.publishOn)
      throw new Error(`the registry ${o.image} exited: ${(await logs()).trim().split("\n").at(-1)}`);
    if (!answered) return void (await container.remove({ force: true, v: true }));
    return { id: container.id, at, logs, stop, [Symbol.asyncDispose]: stop } satisfies Registry;
  } catch (error) {
    await stop();
    throw error;
  }
}

// A registry container, ready once it answers `GET /v2/` (401 too, with auth), on the engine `docker` speaks to.
export async function startRegistry(docker: Docker, o: RegistryOptions): Promise<Registry> {
  const network = o.network ? await docker.createNetwork({ Name: o.network, Labels: o.labels ?? {} }) : undefined;
  try {
    for (let tries = 0; tries < 3; tries++) {
      const registry = await startOn(docker, o, o.publishOn ? 0 : await freePort(), network);
      if (registry) return registry;
    }
    throw new Error("the registry found no free port on 127.0.0.1 in three tries");
  } catch (error) {
    await network?.remove().catch(() => undefined);
    throw error;
  }
}
