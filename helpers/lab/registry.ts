import bcrypt from "bcryptjs";
import { Wait, type StartedTestContainer } from "testcontainers";
import { request } from "undici";
import { LabContainer, type FixtureHooks } from "./containers.ts";
import { dockerApi } from "../engine/client.ts";
import { followProgress, type Progress } from "../engine/progress.ts";
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
  credentials?: Credentials;
}

export async function startRegistry({ auth }: { auth: boolean }): Promise<LabRegistry> {
  let registry = new LabContainer(labImage("registry:2").ref)
    .withExposedPorts(5000)
    .withWaitStrategy(Wait.forLogMessage(/listening on/));
  const username = `lab-${newSecret(3)}`;
  const password = newSecret();
  if (auth) {
    registry = registry
      .withEnvironment({
        REGISTRY_AUTH: "htpasswd",
        REGISTRY_AUTH_HTPASSWD_REALM: "container-labs",
        REGISTRY_AUTH_HTPASSWD_PATH: "/auth/htpasswd",
      })
      .withCopyContentToContainer([
        { content: `${username}:${bcrypt.hashSync(password, 10)}\n`, target: "/auth/htpasswd" },
      ]);
  }
  const container = await registry.start();
  const address = `${container.getHost()}:${container.getMappedPort(5000)}`;
  return { container, address, ...(auth ? { credentials: { username, password, serveraddress: address } } : {}) };
}

// For `test.extend("registry", { scope: "file" }, registryFixture)`: a registry with basic auth and fresh credentials.
export async function registryFixture({}, { onCleanup }: FixtureHooks): Promise<LabRegistry> {
  const registry = await startRegistry({ auth: true });
  onCleanup(async () => {
    await registry.container.stop();
  });
  return registry;
}

function digestOf(events: Progress[]): string {
  const fromStatus = events.map(({ status }) => status?.match(/(?:Digest|digest): (sha256:[a-f0-9]{64})/)?.[1]);
  const digest = events.find(({ aux }) => aux?.Digest)?.aux?.Digest ?? fromStatus.find(Boolean);
  if (!digest) throw new Error("the registry answered without a manifest digest");
  return digest;
}

export async function pushImage(ref: string, credentials?: Credentials): Promise<string> {
  const docker = await dockerApi();
  // The engine wants an X-Registry-Auth header on every push; an empty one is what `docker push` sends logged out.
  const stream = await docker.getImage(ref).push({ authconfig: credentials ?? {} });
  return digestOf(await followProgress(docker, stream));
}

export async function pullImage(ref: string, credentials?: Credentials): Promise<string> {
  const docker = await dockerApi();
  const stream = await docker.pull(ref, credentials ? { authconfig: credentials } : {});
  return digestOf(await followProgress(docker, stream));
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
      accept: "application/vnd.docker.distribution.manifest.v2+json",
    },
  });
  const body = response.statusCode === 200 && !path.includes("/manifests/") ? await response.body.json() : undefined;
  if (body === undefined) await response.body.dump();
  return { status: response.statusCode, headers: response.headers, body };
}
