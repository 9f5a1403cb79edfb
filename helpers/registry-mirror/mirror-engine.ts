// The official path without Docker Hub: a registry on 127.0.0.1 holds the stand-ins under their official repository
// names, and a throwaway engine uses it as its registry mirror, so `LABS_IMAGES=official` pulls every image by its
// official name. Official names exist only in that registry and on that engine, and go with them; the default
// engine only exports the stand-ins it already has.
import { catalogueEntry } from "../catalogue/entries.ts";
import { parseReference } from "../catalogue/reference.ts";
import { dockerApi, type Docker } from "../engine/client.ts";
import { LOOPBACK } from "../engine/reach.ts";
import { startPrivateEngine } from "../private-engines/lifecycle.ts";
import { engineName, stopOrphanedEngines } from "../private-engines/orphans.ts";
import { startRegistry, type Registry } from "../registry/container.ts";
import { labelsFor, newRunId } from "../run/identity.ts";
import { timed } from "../util/time.ts";
import { pushToMirror } from "./mirror-push.ts";

export type OfficialMirror = Awaited<ReturnType<typeof startOfficialMirror>>;

let started = 0;

// A registry mirror serves Docker Hub names only: an image of another registry keeps its host as the first part
// of its path at the mirror, apart from Docker Hub's namespace, and the run is pointed at it by LABS_IMAGE_MAP.
function mirrorPath(official: string): { repository: string; tag: string; viaMap: boolean } {
  const { registry, repository, tag = "latest" } = parseReference(official);
  return registry === "docker.io"
    ? { repository, tag, viaMap: false }
    : { repository: `${registry}/${repository}`, tag, viaMap: true };
}

const tenths = (seconds: number) => Number(seconds.toFixed(1));

// The registry stand-in in the host's network, on 127.0.0.1 only. Labelled as a run of this process, so that if the
// process is killed the next run's sweep removes it, and no other run's sweep touches it while the process lives.
async function startMirrorRegistry(docker: Docker): Promise<Registry> {
  const image = catalogueEntry("registry:2").standIn;
  await docker
    .getImage(image)
    .inspect()
    .catch(() => {
      throw new Error(`the mirror runs ${image}, which is not built: run \`npm run images:build registry\``);
    });
  return startRegistry(docker, { image, labels: labelsFor(newRunId()) });
}

// "<repository>:<tag>" of every manifest a client fetched, as the registry logged it.
async function manifestsServed(registry: Registry): Promise<string[]> {
  const served = (await registry.logs()).matchAll(/"(?:GET|HEAD) \/v2\/(\S+)\/manifests\/(\S+) HTTP\/[\d.]+" 200 /g);
  return [...served].map(([, repository, tag]) => `${repository}:${tag}`);
}

export async function startOfficialMirror(officials: string[]) {
  // A mirror engine whose owner was killed still runs, holding official names: the next owner stops it.
  await stopOrphanedEngines("mirror");
  const docker = await dockerApi();
  const { value: registry, seconds: registryS } = await timed(() => startMirrorRegistry(docker));
  const at = registry.at(LOOPBACK);
  const mirrorUrl = `http://${at}`;
  const copies = officials.map((official) => ({
    official,
    ...mirrorPath(official),
    source: catalogueEntry(official).standIn,
  }));
  const name = engineName("mirror", String(++started));
  // The engine needs only the registry's address: it starts while the images go in.
  const [pushed, engineUp] = await Promise.allSettled([
    timed(() => pushToMirror(docker, at, copies)),
    timed(() => startPrivateEngine({ name, engine: "docker20", registryMirror: mirrorUrl, quiet: true })),
  ]);
  if (pushed.status === "rejected" || engineUp.status === "rejected") {
    if (engineUp.status === "fulfilled") await engineUp.value.value.stop();
    await registry.stop();
    throw pushed.status === "rejected" ? pushed.reason : (engineUp as PromiseRejectedResult).reason;
  }
  const { digests, bytes } = pushed.value.value;
  const engine = engineUp.value.value;
  // LABS_IMAGE_MAP for the images Docker Hub's mirror cannot stand for.
  const imageMap = Object.fromEntries(
    copies
      .filter(({ viaMap }) => viaMap)
      .map(({ official, repository, tag }) => [official, `${at}/${repository}:${tag}`]),
  );
  return {
    host: engine.host, // the mirror engine's DOCKER_HOST
    mirrorUrl,
    imageMap,
    // What `npm run labs` needs to run the official path through the mirror. The mirror holds no Ryuk image: the
    // suite's guardian and audit do Ryuk's job here (see the README).
    env: {
      DOCKER_HOST: engine.host,
      LABS_IMAGES: "official",
      LABS_IMAGE_MAP: JSON.stringify(imageMap),
      TESTCONTAINERS_RYUK_DISABLED: "true",
    },
    copies: copies.map((copy) => ({ ...copy, digest: digests.get(copy.source)! })),
    timings: {
      registryS: tenths(registryS),
      pushS: tenths(pushed.value.seconds),
      pushedMB: Math.round(bytes / 1e6),
      engineS: tenths(engineUp.value.seconds),
    },
    manifestsServed: () => manifestsServed(registry),
    stopRegistry: registry.stop,
    async [Symbol.asyncDispose]() {
      await engine.stop();
      await registry.stop();
    },
  };
}
