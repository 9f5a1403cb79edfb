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

// The registry stand-in, published on 127.0.0.1 only. Labelled as a run of this process, so that if the process is
// killed the next run's sweep removes it, and no other run's sweep touches it while the process lives. Its storage is
// a tmpfs: nothing it holds outlives it, and no volume is left behind.
export async function startMirrorRegistry(docker: Docker): Promise<MirrorRegistry> {
  const image = catalogueEntry("registry:2").standIn;
  await docker
    .getImage(image)
    .inspect()
    .catch(() => {
      throw new Error(`the mirror runs ${image}, which is not built: run \`npm run images:build registry\``);
    });
  const container = await docker.createContainer({
    Image: image,
    Labels: labelsFor(newRunId()),
    ExposedPorts: { "5000/tcp": {} },
    HostConfig: {
      PortBindings: { "5000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
      Tmpfs: { "/var/lib/registry": "" },
    },
  });
  const stop = async () => {
    await container.remove({ force: true, v: true }).catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
  };
  try {
    await container.start();
    const ports = (await container.inspect()).NetworkSettings.Ports["5000/tcp"];
    const url = `http://127.0.0.1:${ports?.[0]?.HostPort}`;
    for (const deadline = Date.now() + ANSWERS_WITHIN_MS; ; await sleep(100)) {
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
