// `docker push` and `docker pull` through the engine, each proving the manifest digest the registry answered with.
import { formatReference, parseReference } from "../catalogue/reference.ts";
import { RegistryApi } from "../registry/api.ts";
import { dockerApi, productOf } from "./client.ts";
import { answeredWithin, followProgress, StalledTransfer, type Progress } from "./progress.ts";
import { LOOPBACK } from "./reach.ts";

// What the engine takes as X-Registry-Auth, and what `docker login` stores per registry.
export interface Credentials {
  username: string;
  password: string;
  serveraddress: string;
}

function streamDigest(events: Progress[]): string | undefined {
  const fromStatus = events.map(({ status }) => status?.match(/(?:Digest|digest): (sha256:[a-f0-9]{64})/)?.[1]);
  return events.find(({ aux }) => aux?.Digest)?.aux?.Digest ?? fromStatus.find(Boolean);
}

function digestOf(events: Progress[]): string {
  const digest = streamDigest(events);
  if (!digest) throw new Error("the registry answered without a manifest digest");
  return digest;
}

export interface Pushed {
  digest: string;
  // Per layer, what the engine did: "Pushed", "Layer already exists" or "Mounted from <repository>".
  layers: Map<string, string>;
}

const LAYER_OUTCOME = /^(Pushed|Layer already exists|Mounted from .+)$/;

// What the engine did with the layers, for a step's note: "4 layers, Mounted from library/debian".
export function layerOutcomes({ layers }: Pushed): string {
  const mounted = [...layers.values()].filter((outcome) => outcome.startsWith("Mounted from"));
  return `${layers.size} layers, ${mounted.length ? mounted.join(", ") : "none mounted"}`;
}

// A registry on loopback answers within seconds; an engine that goes silent on a transfer is asked once more,
// with the stall named, rather than left to the step's timeout (seen once on Docker 20.10, a push right after a
// refused push of the same repository).
const IDLE_SECONDS = 45;

// The engine's stream of a push or pull, followed to its end; a stall is asked once more, a second one fails.
async function followed(
  what: string,
  start: (signal: AbortSignal) => Promise<NodeJS.ReadableStream>,
): Promise<Progress[]> {
  const docker = await dockerApi();
  const attempt = async () =>
    followProgress(docker, await answeredWithin(IDLE_SECONDS, start), { idleSeconds: IDLE_SECONDS });
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof StalledTransfer)) throw error;
    console.warn(`${what}: ${error.message}; asking the engine once more`);
    return await attempt().catch((again: unknown) => {
      throw again instanceof StalledTransfer ? new Error(`${what}: ${again.message}, twice`) : again;
    });
  }
}

export async function push(ref: string, credentials?: Credentials): Promise<Pushed> {
  const docker = await dockerApi();
  // The engine wants an X-Registry-Auth header on every push; an empty one is what `docker push` sends logged out.
  const events = await followed(`docker push ${ref}`, (abortSignal) =>
    docker.getImage(ref).push({ authconfig: credentials ?? {}, abortSignal }),
  );
  const outcomes = events.filter(({ id, status }) => id && status && LAYER_OUTCOME.test(status));
  const layers = new Map(outcomes.map(({ id, status }) => [id!, status!]));
  return { digest: digestOf(events), layers };
}

export async function pullImage(ref: string, credentials?: Credentials): Promise<string> {
  const docker = await dockerApi();
  const events = await followed(`docker pull ${ref}`, (abortSignal) =>
    docker.pull(ref, { abortSignal, ...(credentials ? { authconfig: credentials } : {}) }),
  );
  if (streamDigest(events) || productOf(await docker.version()) !== "Podman") return digestOf(events);
  return pulledWithoutDigestLine(ref, credentials);
}

// Podman 4.3's pull stream names no manifest digest. The digest a registry on this machine's loopback answers for the
// tag (its Docker-Content-Digest) is the pulled one only where the engine now keeps the image under that repository
// with that digest.
async function pulledWithoutDigestLine(ref: string, credentials?: Credentials): Promise<string> {
  const { registry, repository, tag } = parseReference(ref);
  const [host, port] = registry.split(":");
  if (!port || (host !== "localhost" && host !== LOOPBACK)) {
    throw new Error(`${registry} is not a registry on this machine's loopback, which the runner could ask itself`);
  }
  const api = new RegistryApi(`${LOOPBACK}:${port}`, credentials);
  const { status, headers } = await api.ask("HEAD", `/v2/${repository}/manifests/${tag}`);
  const digest = headers["docker-content-digest"];
  if (status !== 200 || typeof digest !== "string") {
    throw new Error(`${registry} answered ${status} for ${repository}:${tag}, without a digest`);
  }
  const { RepoDigests } = await (await dockerApi()).getImage(ref).inspect();
  if (!pulledAs(ref, digest, RepoDigests)) {
    throw new Error(`docker pull ${ref}: the registry serves ${digest}, which the engine does not hold for ${ref}`);
  }
  return digest;
}

// `name@digest` in one spelling whatever the image store wrote (familiar or fully qualified names).
export function canonicalDigestRef(name: string, digest?: string): string {
  const parsed = parseReference(name);
  return formatReference({ registry: parsed.registry, repository: parsed.repository, digest: digest ?? parsed.digest });
}

// Whether the engine keeps `ref`'s image as pulled from its repository with `digest`, whatever spelling it recorded.
const pulledAs = (ref: string, digest: string, repoDigests: string[] = []) =>
  repoDigests.map((entry) => canonicalDigestRef(entry)).includes(canonicalDigestRef(ref, digest));

// The registry a reference names can serve the image only if it answers for that reference with the manifest the
// local copy was pulled as. A local build, a stand-in or a tag the registry has since moved cannot be pulled back.
export async function servedDigest(ref: string): Promise<string | undefined> {
  const docker = await dockerApi();
  const image = docker.getImage(ref);
  const [answer, local] = await Promise.all([image.distribution().catch(() => undefined), image.inspect()]);
  const digest = answer?.Descriptor?.digest;
  return digest && pulledAs(ref, digest, local.RepoDigests) ? digest : undefined;
}
