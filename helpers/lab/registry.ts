import { request } from "undici";
import { expect, inject } from "vitest";
import { labImage } from "./images.ts";

export interface Credentials {
  username: string;
  password: string;
  serveraddress: string;
}

// One user per lab step that pushes or pulls, so that one lab's login state never decides another lab's push.
export const REGISTRY_USERS = ["pull", "login", "visits"] as const;
export type RegistryUser = (typeof REGISTRY_USERS)[number];

export interface RunRegistry {
  address: string;
  users: Record<RegistryUser, Credentials>;
  // "repository:tag" of the base image the run's setup pushes there, where no registry serves it by its own name.
  base?: string;
}

// The run's one registry (registry:2 with basic auth, fresh passwords), started by the global setup: a base layer
// one lab pushed is mounted, not compressed again, when the next lab pushes an image built on it.
export function runRegistry(): RunRegistry {
  labImage("registry:2");
  const registry = inject("registry");
  if (!registry) throw new Error("the global setup started no registry: registry:2 was not among the selected images");
  return registry;
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

export async function registryGet(address: string, path: string, credentials: Credentials | null) {
  const response = await request(`http://${address}${path}`, {
    method: path.includes("/manifests/") ? "HEAD" : "GET",
    headers: {
      ...(credentials ? { authorization: basicAuthorization(credentials) } : {}),
      accept: MANIFEST_TYPES,
    },
  });
  const body = response.statusCode === 200 && !path.includes("/manifests/") ? await response.body.json() : undefined;
  if (body === undefined) await response.body.dump();
  return { status: response.statusCode, headers: response.headers, body };
}

// The run's setup pushes the base while the labs start: a lab that pulls it, or pushes an image built on it, waits for
// that push to land, so the engine mounts the base's layer instead of compressing it a second time.
export async function seededBase(credentials: Credentials): Promise<string | undefined> {
  const { address, base } = runRegistry();
  if (!base) return undefined;
  const [repository, tag] = base.split(":");
  await expect
    .poll(async () => (await registryGet(address, `/v2/${repository}/manifests/${tag}`, credentials)).status, {
      timeout: 120_000,
      interval: 250,
      message: `${base} pushed to the run's registry by the run's setup`,
    })
    .toBe(200);
  return `${address}/${base}`;
}
