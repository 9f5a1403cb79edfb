import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import { Wait } from "testcontainers";
import { request } from "undici";
import { dockerApi } from "../engine/client.ts";
import { engineMessage } from "../engine/errors.ts";
import { unlessEngineLost } from "../engine/lost.ts";
import { push, servedDigest, type Credentials } from "../engine/transfer.ts";
import { alsoOnEngineLoopback, containerOfRun, LOOPBACK, publishAddress, publishedPort } from "./containers.ts";
import { labelsFor } from "./identity.ts";
import { newSecret } from "./secrets.ts";

// One user per lab step that pushes or pulls, so that one lab's login state never decides another lab's push.
export const REGISTRY_USERS = ["pull", "login", "visits", "search"] as const;
export type RegistryUser = (typeof REGISTRY_USERS)[number];

export interface RunRegistry {
  // Where the engine pushes and pulls (its own loopback, which it trusts over plain HTTP): the name in image references.
  address: string;
  // Where the runner asks the registry's API: the same where the engine is local.
  apiAddress: string;
  users: Record<RegistryUser, Credentials>;
  // "repository:tag" of the base image the run's setup pushes there, where no registry serves it by its own name.
  base?: string;
  // How a container the run starts on the registry's network reaches it: by name, never by the engine host's ports.
  internal: { network: string; address: string };
}

// Without the OCI types the registry refuses a manifest pushed from the containerd image store.
export const MANIFEST_TYPES = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

export const basicAuthorization = ({ username, password }: Credentials) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

const SEEDED_BASE = "library/debian:latest";

// Lab 3.2.1 pulls debian through the run's registry where no registry serves it by its own name (a stand-in). The
// setup pushes it there once, beside the labs' start, so the engine compresses its layer once in the run: every later
// push of an image built on it (3.2.1's httpd, 3.1.2's visits) mounts that layer instead.
// The engine pushes it under a tag of the setup's own, and only once that tag is untagged again does the registry get
// `latest`, copied from it: a lab that sees `latest` never pulls while the setup still works on the same local name
// (a pull racing the untag of its own reference hung Docker 20.10 for minutes).
async function seed(
  { address, apiAddress }: Pick<RunRegistry, "address" | "apiAddress">,
  credentials: Credentials,
  baseRef: string,
): Promise<void> {
  const docker = await dockerApi();
  const [repository, tag] = SEEDED_BASE.split(":") as [string, string];
  const [stagingRepository, stagingTag] = [`${address}/${repository}`, "setup"];
  const staging = `${stagingRepository}:${stagingTag}`;
  await docker.getImage(baseRef).tag({ repo: stagingRepository, tag: stagingTag });
  try {
    await push(staging, credentials);
  } finally {
    await docker
      .getImage(staging)
      .remove()
      .catch(() => undefined);
  }
  const authorization = basicAuthorization(credentials);
  const manifests = `http://${apiAddress}/v2/${repository}/manifests`;
  const staged = await request(`${manifests}/${stagingTag}`, { headers: { authorization, accept: MANIFEST_TYPES } });
  if (staged.statusCode !== 200) throw new Error(`the registry answered ${staged.statusCode} for ${staging}`);
  const copied = await request(`${manifests}/${tag}`, {
    method: "PUT",
    headers: { authorization, "content-type": String(staged.headers["content-type"]) },
    body: Buffer.from(await staged.body.arrayBuffer()),
  });
  await copied.body.dump();
  if (copied.statusCode !== 201) throw new Error(`the registry answered ${copied.statusCode} to ${SEEDED_BASE}`);
}

// The registry's htpasswd is read once, when it starts: every lab's user is known before it starts.
export async function startRunRegistry(image: string, runId: string, baseRef: string | undefined) {
  const accounts = REGISTRY_USERS.map((role) => ({
    role,
    username: `${role}-${randomBytes(4).toString("hex")}`,
    password: newSecret(),
  }));
  // bcrypt's lowest cost: the registry checks the password on every request of a push or pull, and at cost 10 each
  // check took it 64 ms of CPU. The passwords are fresh random secrets of a registry that lives as long as the run.
  const htpasswd = accounts.map(({ username, password }) => `${username}:${bcrypt.hashSync(password, 4)}\n`).join("");
  // The registry's name is its host name on a network of its own, which the run's search index joins.
  const name = `labs-registry-${runId}`;
  const network = await (await dockerApi()).createNetwork({ Name: name, Labels: labelsFor(runId) });
  const [container, served] = await Promise.all([
    alsoOnEngineLoopback(new (containerOfRun(runId))(image))
      .withName(name)
      .withNetworkMode(name)
      .withExposedPorts(5000)
      .withEnvironment({
        REGISTRY_AUTH: "htpasswd",
        REGISTRY_AUTH_HTPASSWD_REALM: "container-labs",
        REGISTRY_AUTH_HTPASSWD_PATH: "/auth/htpasswd",
      })
      .withCopyContentToContainer([{ content: htpasswd, target: "/auth/htpasswd" }])
      .withWaitStrategy(Wait.forLogMessage(/listening on/))
      .start(),
    baseRef && servedDigest(baseRef),
  ]);
  const portOn = (address: string) => publishedPort(container.getId(), 5000, address);
  const address = `${LOOPBACK}:${await portOn(LOOPBACK)}`;
  const apiAddress = `${await publishAddress()}:${await portOn(await publishAddress())}`;
  const users = Object.fromEntries(
    accounts.map(({ role, username, password }) => [role, { username, password, serveraddress: address }]),
  ) as Record<RegistryUser, Credentials>;
  const base = baseRef && !served ? SEEDED_BASE : undefined;
  const seeding = base
    ? seed({ address, apiAddress }, users.pull, baseRef!).catch((error: unknown) =>
        console.error(`registry: pushing ${baseRef} to the run's registry failed: ${engineMessage(error)}`),
      )
    : Promise.resolve();
  const registry: RunRegistry = {
    address,
    apiAddress,
    users,
    ...(base ? { base } : {}),
    internal: { network: name, address: `${name}:5000` },
  };
  return {
    registry,
    stop: async () => {
      await seeding;
      await container.stop().then(() => undefined, unlessEngineLost);
      await network.remove().then(() => undefined, unlessEngineLost);
    },
  };
}
