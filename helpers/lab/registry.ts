import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import { Wait, type StartedTestContainer } from "testcontainers";
import { request } from "undici";
import { unlessEngineLost } from "../engine/lost.ts";
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
