// The official path without Docker Hub: a registry on 127.0.0.1 holds the stand-ins under their official repository
// names, and a throwaway engine uses it as its registry mirror, so `LABS_IMAGES=official` pulls every image by its
// official name. Official names exist only in that registry and on that engine, and go with them; the default
// engine only exports the stand-ins it already has.
import { catalogueEntry } from "../catalogue/entries.ts";
import { parseReference } from "../catalogue/reference.ts";
import { dockerApi, type Docker } from "../engine/client.ts";
import { LOOPBACK } from "../engine/reach.ts";
import { startPrivateEngine, type EngineKind } from "../private-engines/lifecycle.ts";
import { engineName, stopOrphanedEngines } from "../private-engines/orphans.ts";
import { startRegistry, type Registry } from "../registry/container.ts";
import { labelsFor, newRunId } from "../run/identity.ts";
import { since as sinceStart, timed as timedWork } from "../util/time.ts";
import { pushToMirror, type MirrorCopy } from "./mirror-push.ts";

export interface OfficialMirror extends AsyncDisposable {
  host: string; // the mirror engine's DOCKER_HOST
  mirrorUrl: string;
  imageMap: Record<string, string>; // LABS_IMAGE_MAP for the images Docker Hub's mirror cannot stand for
  env: NodeJS.ProcessEnv; // what `npm run labs` needs to run the official path through the mirror
  copies: (MirrorCopy & { official: string; digest: string })[];
  timings: { registryS: number; pushS: number; pushedMB: number; engineS: number };
  manifestsServed(): Promise<string[]>;
  stopRegistry(): Promise<void>;
}

let started = 0;

// A registry mirror serves Docker Hub names only: an image of another registry keeps its host as the first part
// of its path at the mirror, apart from Docker Hub's namespace, and the run is pointed at it by LABS_IMAGE_MAP.
function mirrorPath(official: string): { repository: string; tag: string; viaMap: boolean } {
  const { registry, repository, tag = "latest" } = parseReference(official);
  return registry === "docker.io"
    ? { repository, tag, viaMap: false }
    : { repository: `${registry}/${repository}`, tag, viaMap: true };
}

const since = (start: number) => Number(sinceStart(start).toFixed(1));
const timed = async <T>(work: Promise<T>) => {
  const { value, seconds } = await timedWork(() => work);
  return { value, seconds: Number(seconds.toFixed(1)) };
};

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

export async function startOfficialMirror(
  officials: string[],
  engine: EngineKind = "docker20",
): Promise<OfficialMirror> {
  // A mirror engine whose owner was killed still runs, holding official names: the next owner stops it.
  await stopOrphanedEngines("mirror");
  const docker = await dockerApi();
  const registryStart = performance.now();
  const registry = await startMirrorRegistry(docker);
  const registryS = since(registryStart);
  const at = registry.at(LOOPBACK);
  const url = `http://${at}`;
  const copies = officials.map((official) => ({
    official,
    ...mirrorPath(official),
    source: catalogueEntry(official).standIn,
  }));
  const name = engineName("mirror", String(++started));
  // The engine needs only the registry's address: it starts while the images go in.
  const [pushed, engineUp] = await Promise.allSettled([
    timed(pushToMirror(docker, at, copies)),
    timed(startPrivateEngine({ name, engine, registryMirror: url, quiet: true })),
  ]);
  if (pushed.status === "rejected" || engineUp.status === "rejected") {
    if (engineUp.status === "fulfilled") await engineUp.value.value.stop();
    await registry.stop();
    throw pushed.status === "rejected" ? pushed.reason : (engineUp as PromiseRejectedResult).reason;
  }
  const { digests, bytes } = pushed.value.value;
  const mirrorEngine = engineUp.value.value;
  const imageMap = Object.fromEntries(
    copies
      .filter(({ viaMap }) => viaMap)
      .map(({ official, repository, tag }) => [official, `${at}/${repository}:${tag}`]),
  );
  const stop = async () => {
    await mirrorEngine.stop();
    await registry.stop();
  };
  return {
    host: mirrorEngine.host,
    mirrorUrl: url,
    imageMap,
    // The mirror holds no Ryuk image: the suite's guardian and audit do Ryuk's job here (see the README).
    env: {
      DOCKER_HOST: mirrorEngine.host,
      LABS_IMAGES: "official",
      LABS_IMAGE_MAP: JSON.stringify(imageMap),
      TESTCONTAINERS_RYUK_DISABLED: "true",
    },
    copies: copies.map((copy) => ({ ...copy, digest: digests.get(copy.source)! })),
    timings: {
      registryS,
      pushS: pushed.value.seconds,
      pushedMB: Math.round(bytes / 1e6),
      engineS: engineUp.value.seconds,
    },
    manifestsServed: () => manifestsServed(registry),
    stopRegistry: registry.stop,
    [Symbol.asyncDispose]: stop,
  };
}
