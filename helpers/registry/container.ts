import { buffer } from "node:stream/consumers";
import { pack } from "tar-stream";
import type Docker from "dockerode";
import { pollUntil } from "../util/poll.ts";

const PORT = "5000/tcp";
const LOOPBACK = "127.0.0.1";
const AUTH = { AUTH: "htpasswd", AUTH_HTPASSWD_REALM: "container-labs", AUTH_HTPASSWD_PATH: "/auth/htpasswd" };

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
  // "host:port" of the registry where `address` (one of publishOn, or 127.0.0.1 in the host's network) reaches it.
  at(address: string): string;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

const unlessGone = (error: { statusCode?: number }) => {
  if (error.statusCode !== 404) throw error;
};

// A registry container on the engine `docker` speaks to, ready once it logs the address it listens on. In the host's
// network it listens on port 0: the kernel's choice, which it logs, cannot be taken by anything else meanwhile.
export async function startRegistry(docker: Docker, o: RegistryOptions): Promise<Registry> {
  const network = o.network ? await docker.createNetwork({ Name: o.network, Labels: o.labels ?? {} }) : undefined;
  const env = { ...(o.publishOn ? {} : { HTTP_ADDR: `${LOOPBACK}:0` }), ...(o.htpasswd ? AUTH : {}) };
  const container = await docker
    .createContainer({
      Image: o.image,
      ...(o.network ? { name: o.network } : {}),
      Labels: o.labels ?? {},
      Env: Object.entries(env).map(([name, value]) => `REGISTRY_${name}=${value}`),
      ExposedPorts: { [PORT]: {} },
      HostConfig: o.publishOn
        ? { NetworkMode: o.network, PortBindings: { [PORT]: o.publishOn.map((HostIp) => ({ HostIp, HostPort: "" })) } }
        : { NetworkMode: "host", Tmpfs: { "/var/lib/registry": "" } },
    })
    .catch(async (error: unknown) => {
      await network?.remove();
      throw error;
    });
  const logs = async () => (await container.logs({ stdout: true, stderr: true })).toString("latin1");
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
    const listening = await pollUntil(
      async () => {
        const port = /listening on \S*:(\d+)/.exec(await logs())?.[1];
        if (port || (await container.inspect()).State.Running) return port;
        throw new Error(`${o.image} exited: ${(await logs()).trim().split("\n").at(-1)}`);
      },
      { timeoutMs: 30_000 },
    );
    if (!listening) throw new Error(`${o.image} did not say it listens within 30 s`);
    const ports = (await container.inspect()).NetworkSettings.Ports[PORT] ?? [];
    const at = (address: string) => {
      const port = o.publishOn ? ports.find(({ HostIp }) => HostIp === address)?.HostPort : listening;
      if (!port || (!o.publishOn && address !== LOOPBACK)) throw new Error(`${o.image} is not reached at ${address}`);
      return `${address}:${port}`;
    };
    return { at, logs, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
