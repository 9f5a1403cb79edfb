import { randomBytes } from "node:crypto";
import bcrypt from "bcryptjs";
import { dockerApi } from "../engine/client.ts";
import { engineMessage } from "../engine/errors.ts";
import type { Engine } from "../engine/facts.ts";
import { unlessEngineLost } from "../engine/lost.ts";
import { push, servedDigest, type Credentials } from "../engine/transfer.ts";
import { RegistryApi } from "../registry/api.ts";
import { startRegistry } from "../registry/container.ts";
import { LOOPBACK, publishAddress } from "./for-this-run.ts";
import { labelsFor } from "./identity.ts";
import { newSecret } from "./new-secret.ts";

// One user per lab step that pushes or pulls, so that one lab's login state never decides another lab's push.
const REGISTRY_USERS = ["pull", "login", "visits", "search"] as const;
type RegistryUser = (typeof REGISTRY_USERS)[number];

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

const SEEDED_BASE = "library/debian:latest";

// Lab 3.2.1 pulls debian through the run's registry where no registry serves it by its own name (a stand-in). The
// setup pushes it there once, beside the labs' start, so the engine compresses its layer once in the run: every later
// push of an image built on it (3.2.1's httpd, 3.1.2's visits) mounts that layer instead.
// The engine pushes it under a tag of the setup's own, and only once that tag is untagged again does the registry get
// `latest`, copied from it: a lab that sees `latest` never pulls while the setup still works on the same local name
// (a pull racing the untag of its own reference hung Docker 20.10 for minutes).
async function seed(address: string, apiAddress: string, credentials: Credentials, baseRef: string): Promise<void> {
  const docker = await dockerApi();
  const [repository, tag] = SEEDED_BASE.split(":") as [string, string];
  const staging = `${address}/${repository}:setup`;
  await docker.getImage(baseRef).tag({ repo: `${address}/${repository}`, tag: "setup" });
  try {
    await push(staging, credentials);
  } finally {
    await docker
      .getImage(staging)
      .remove()
      .catch(() => undefined);
  }
  const api = new RegistryApi(apiAddress, credentials);
  const staged = await api.call("GET", `/v2/${repository}/manifests/setup`, 200);
  await api.putManifest(repository, tag, staged.body, String(staged.headers["content-type"]));
}

// The registry's htpasswd is read once, when it starts: every lab's user is known before it starts.
export async function startRunRegistry(
  image: string,
  runId: string,
  baseRef: string | undefined,
  product: Engine["product"],
) {
  const accounts = REGISTRY_USERS.map((role) => ({
    role,
    username: `${role}-${randomBytes(4).toString("hex")}`,
    password: newSecret(),
  }));
  // bcrypt's lowest cost: the registry checks the password on every request of a push or pull, and at cost 10 each
  // check took it 64 ms of CPU. The passwords are fresh random secrets of a registry that lives as long as the run.
  const htpasswd = accounts.map(({ username, password }) => `${username}:${bcrypt.hashSync(password, 4)}\n`).join("");
  // The registry's name is its host name on a network of its own, which the run's search index joins. The engine
  // pushes to it on the engine's loopback, the only place it trusts a plain-HTTP registry; the runner asks its API
  // on the run's publish address.
  const name = `labs-registry-${runId}`;
  const publishOn = [...new Set([await publishAddress(), LOOPBACK])];
  const [container, served] = await Promise.all([
    startRegistry(await dockerApi(), { image, labels: labelsFor(runId), publishOn, network: name, htpasswd }),
    baseRef && servedDigest(baseRef),
  ]);
  const apiAddress = container.at(publishOn[0]!);
  // The name the engine gives its own loopback in the registry's address. Docker trusts 127.0.0.0/8 over plain HTTP.
  // Podman's push and pull trust what its registries.conf marks insecure, but its Docker-compatible login (/auth)
  // decides that itself and trusts only `localhost:` addresses (pkg/api/handlers/compat/auth.go), so `docker login
  // 127.0.0.1:…` asks it for HTTPS; `docker login localhost:…` is what works there.
  const address = container.at(LOOPBACK).replace(LOOPBACK, product === "Podman" ? "localhost" : LOOPBACK);
  const users = Object.fromEntries(
    accounts.map(({ role, username, password }) => [role, { username, password, serveraddress: address }]),
  ) as Record<RegistryUser, Credentials>;
  const base = baseRef && !served ? SEEDED_BASE : undefined;
  const seeding = base
    ? seed(address, apiAddress, users.pull, baseRef!).catch((error: unknown) =>
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
    },
  };
}
