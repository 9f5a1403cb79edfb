import { createServer, type AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { catalogueEntry } from "../catalogue/entries.ts";
import type { Docker } from "../engine/client.ts";
import { labelsFor, newRunId } from "../run/identity.ts";

const ANSWERS_WITHIN_MS = 30_000;

export interface MirrorRegistry extends AsyncDisposable {
  url: string;
  // "<repository>:<tag>" of every manifest a client fetched, as the registry logged it.
  manifestsServed(): Promise<string[]>;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

// The registry stand-in, listening on 127.0.0.1 only. In the host's network rather than behind a published port:
// every byte put into it and pulled from it would pass through docker-proxy, which halved the throughput on two
// cores. Labelled as a run of this process, so that if the process is killed the next run's sweep removes it, and
// no other run's sweep touches it while the process lives. Its storage is a tmpfs: nothing it holds outlives it.
async function startOn(docker: Docker, image: string, port: number): Promise<MirrorRegistry | undefined> {
  const container = await docker.createContainer({
    Image: image,
    Labels: labelsFor(newRunId()),
    Env: [`REGISTRY_HTTP_ADDR=127.0.0.1:${port}`],
    HostConfig: { NetworkMode: "host", Tmpfs: { "/var/lib/registry": "" } },
  });
  const stop = async () => {
    await container.remove({ force: true, v: true }).catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
  };
  try {
    await container.start();
    const url = `http://127.0.0.1:${port}`;
    for (const deadline = Date.now() + ANSWERS_WITHIN_MS; ; await sleep(100)) {
      // Exited: something else took the port between its choice and the registry's start.
      if (!(await container.inspect()).State.Running) return void (await stop());
      const status = await fetch(`${url}/v2/`).then(
        ({ status }) => status,
        () => 0,
      );
      if (status === 200) break;
      if (Date.now() > deadline) throw new Error(`the mirror registry at ${url} did not answer within 30 s`);
    }
    const manifestsServed = async () => {
      const logs = (await container.logs({ stdout: true, stderr: true })).toString("latin1");
      const served = logs.matchAll(/"(?:GET|HEAD) \/v2\/(\S+)\/manifests\/(\S+) HTTP\/[\d.]+" 200 /g);
      return [...served].map(([, repository, tag]) => `${repository}:${tag}`);
    };
    return { url, manifestsServed, stop, [Symbol.asyncDispose]: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export async function startMirrorRegistry(docker: Docker): Promise<MirrorRegistry> {
  const image = catalogueEntry("registry:2").standIn;
  await docker
    .getImage(image)
    .inspect()
    .catch(() => {
      throw new Error(`the mirror runs ${image}, which is not built: run \`npm run images:build registry\``);
    });
  for (let tries = 0; tries < 3; tries++) {
    const registry = await startOn(docker, image, await freePort());
    if (registry) return registry;
  }
  throw new Error("the mirror registry found no free port on 127.0.0.1 in three tries");
}
