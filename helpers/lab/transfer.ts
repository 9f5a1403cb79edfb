// `docker push` and `docker pull` through the engine, each proving the manifest digest the registry answered with.
import { formatReference, parseReference } from "../catalogue/reference.ts";
import { dockerApi } from "../engine/client.ts";
import { followProgress, type Progress } from "../engine/progress.ts";
import type { Credentials } from "./registry.ts";

function digestOf(events: Progress[]): string {
  const fromStatus = events.map(({ status }) => status?.match(/(?:Digest|digest): (sha256:[a-f0-9]{64})/)?.[1]);
  const digest = events.find(({ aux }) => aux?.Digest)?.aux?.Digest ?? fromStatus.find(Boolean);
  if (!digest) throw new Error("the registry answered without a manifest digest");
  return digest;
}

export interface Pushed {
  digest: string;
  // Per layer, what the engine did: "Pushed", "Layer already exists" or "Mounted from <repository>".
  layers: Map<string, string>;
}

const LAYER_OUTCOME = /^(Pushed|Layer already exists|Mounted from .+)$/;

export async function push(ref: string, credentials?: Credentials): Promise<Pushed> {
  const docker = await dockerApi();
  // The engine wants an X-Registry-Auth header on every push; an empty one is what `docker push` sends logged out.
  const events = await followProgress(docker, await docker.getImage(ref).push({ authconfig: credentials ?? {} }));
  const layers = new Map(
    (events as (Progress & { id?: string })[]).flatMap(({ id, status }) =>
      id && status && LAYER_OUTCOME.test(status) ? [[id, status] as const] : [],
    ),
  );
  return { digest: digestOf(events), layers };
}

export async function pushImage(ref: string, credentials?: Credentials): Promise<string> {
  return (await push(ref, credentials)).digest;
}

export async function pullImage(ref: string, credentials?: Credentials): Promise<string> {
  const docker = await dockerApi();
  const stream = await docker.pull(ref, credentials ? { authconfig: credentials } : {});
  return digestOf(await followProgress(docker, stream));
}

// `name@digest` in one spelling whatever the image store wrote (familiar or fully qualified names).
export function canonicalDigestRef(name: string, digest?: string): string {
  const parsed = parseReference(name);
  return formatReference({ registry: parsed.registry, repository: parsed.repository, digest: digest ?? parsed.digest });
}

// The registry a reference names can serve the image only if it answers for that reference with the manifest the
// local copy was pulled as. A local build, a stand-in or a tag the registry has since moved cannot be pulled back.
export async function servedDigest(ref: string): Promise<string | undefined> {
  const docker = await dockerApi();
  const [answer, local] = await Promise.all([
    docker
      .getImage(ref)
      .distribution({})
      .catch(() => undefined) as Promise<{ Descriptor?: { digest?: string } } | undefined>,
    docker.getImage(ref).inspect(),
  ]);
  const digest = answer?.Descriptor?.digest;
  if (!digest) return undefined;
  const pulledAs = (local.RepoDigests ?? []).map((entry) => canonicalDigestRef(entry));
  return pulledAs.includes(canonicalDigestRef(ref, digest)) ? digest : undefined;
}
