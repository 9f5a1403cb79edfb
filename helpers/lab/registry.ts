import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import { Wait, type StartedTestContainer } from "testcontainers";
import { request } from "undici";
import { formatReference, parseReference } from "../catalogue/reference.ts";
import { dockerApi } from "../engine/client.ts";
import { unlessEngineLost } from "../engine/lost.ts";
import { followProgress, type Progress } from "../engine/progress.ts";
import { LabContainer, type FixtureHooks } from "./containers.ts";
import { labImage } from "./images.ts";
import { newSecret } from "./secrets.ts";

export interface Credentials {
  username: string;
  password: string;
  serveraddress: string;
}

export interface LabRegistry {
  container: StartedTestContainer;
  address: string;
  // One user per lab that pushes or pulls, so that one lab's login state never decides another lab's push.
  users: Record<string, Credentials>;
  credentials?: Credentials;
  stop(): Promise<void>;
}

// The registry's htpasswd is read once, when it starts: every lab user is known before it starts.
export async function startRegistry({ users = ["lab"] }: { users?: string[] } = {}): Promise<LabRegistry> {
  const accounts = users.map((role) => ({
    role,
    username: `${role}-${randomBytes(4).toString("hex")}`,
    password: newSecret(),
  }));
  const htpasswd = accounts.map(({ username, password }) => `${username}:${bcrypt.hashSync(password, 10)}\n`).join("");
  const container = await new LabContainer(labImage("registry:2").ref)
    .withExposedPorts(5000)
    .withEnvironment({
      REGISTRY_AUTH: "htpasswd",
      REGISTRY_AUTH_HTPASSWD_REALM: "container-labs",
      REGISTRY_AUTH_HTPASSWD_PATH: "/auth/htpasswd",
    })
    .withCopyContentToContainer([{ content: htpasswd, target: "/auth/htpasswd" }])
    .withWaitStrategy(Wait.forLogMessage(/listening on/))
    .start();
  const address = `${container.getHost()}:${container.getMappedPort(5000)}`;
  const credentialsOf = ({ username, password }: { username: string; password: string }) => ({
    username,
    password,
    serveraddress: address,
  });
  const byRole = Object.fromEntries(accounts.map((account) => [account.role, credentialsOf(account)]));
  return {
    container,
    address,
    users: byRole,
    credentials: byRole[users[0]!],
    stop: async () => {
      await container.stop();
    },
  };
}

// For `test.extend("registry", { scope: "file" }, registryFixture)`: a registry with basic auth and fresh credentials.
export async function registryFixture({}, { onCleanup }: FixtureHooks): Promise<LabRegistry> {
  const registry = await startRegistry();
  onCleanup(() => registry.stop().catch(unlessEngineLost));
  return registry;
}

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

export async function registryGet(
  registry: LabRegistry,
  path: string,
  credentials: Credentials | null = registry.credentials ?? null,
) {
  const authorization = credentials
    ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`
    : undefined;
  const response = await request(`http://${registry.address}${path}`, {
    method: path.includes("/manifests/") ? "HEAD" : "GET",
    headers: {
      ...(authorization ? { authorization } : {}),
      // Without the OCI types the registry refuses a manifest pushed from the containerd image store.
      accept: [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
      ].join(", "),
    },
  });
  const body = response.statusCode === 200 && !path.includes("/manifests/") ? await response.body.json() : undefined;
  if (body === undefined) await response.body.dump();
  return { status: response.statusCode, headers: response.headers, body };
}
