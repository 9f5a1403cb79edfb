import { expect, inject } from "vitest";
import type { Credentials } from "../engine/transfer.ts";
import { RegistryApi } from "../registry/api.ts";
import type { RunRegistry } from "../run/run-registry.ts";
import { labImage } from "./images.ts";

// The run's one registry (registry:2 with basic auth, fresh passwords), started by the global setup: a base layer
// one lab pushed is mounted, not compressed again, when the next lab pushes an image built on it.
export function runRegistry(): RunRegistry {
  labImage("registry:2");
  const registry = inject("registry");
  if (!registry) throw new Error("the global setup started no registry: registry:2 was not among the selected images");
  return registry;
}

// The registry's API as the runner reaches it (RunRegistry.apiAddress), not as the engine names it.
export async function registryGet(path: string, credentials: Credentials | null) {
  const manifest = path.includes("/manifests/");
  const api = new RegistryApi(runRegistry().apiAddress, credentials);
  const { status, headers, body } = await api.ask(manifest ? "HEAD" : "GET", path);
  return { status, headers, body: status === 200 && !manifest ? (JSON.parse(body.toString()) as unknown) : undefined };
}

// The run's setup pushes the base while the labs start: a lab that pulls it, or pushes an image built on it, waits for
// that push to land, so the engine mounts the base's layer instead of compressing it a second time.
export async function seededBase(credentials: Credentials): Promise<string | undefined> {
  const { address, base } = runRegistry();
  if (!base) return undefined;
  const [repository, tag] = base.split(":");
  await expect
    .poll(async () => (await registryGet(`/v2/${repository}/manifests/${tag}`, credentials)).status, {
      timeout: 120_000,
      interval: 250,
      message: `${base} pushed to the run's registry by the run's setup`,
    })
    .toBe(200);
  return `${address}/${base}`;
}
