// A registry holding an image for linux/arm64 only, behind an index that lists that one platform: the shape in which
// an arm64-only image meets a user on an amd64 machine, and where a pull must ask for the lab's platform or find
// nothing. The registry stand-in runs in a container of a private engine, published on 127.0.0.1 only.
import { catalogueEntry } from "../../helpers/catalogue/entries.ts";
import type { Docker } from "../../helpers/engine/client.ts";
import { followProgress } from "../../helpers/engine/progress.ts";
import { LOOPBACK } from "../../helpers/engine/reach.ts";
import { MEDIA_TYPES, RegistryApi } from "../../helpers/registry/api.ts";
import { startRegistry } from "../../helpers/registry/container.ts";

const INDEX = MEDIA_TYPES.dockerIndex;

/** Pushes `image` as <registry>/labs/mysql:5.7-arm64, then puts an index listing only linux/arm64 over that tag. */
export async function arm64OnlyRef(docker: Docker, image: string, say: (line: string) => void): Promise<string> {
  const registry = await startRegistry(docker, { image: catalogueEntry("registry:2").standIn, publishOn: [LOOPBACK] });
  const api = new RegistryApi(registry.at(LOOPBACK));
  const [repository, tag] = [`${registry.at(LOOPBACK)}/labs/mysql`, "5.7-arm64"];
  await docker.getImage(image).tag({ repo: repository, tag });
  const started = performance.now();
  await followProgress(docker, await docker.getImage(`${repository}:${tag}`).push({}));
  say(`pushed ${repository}:${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const manifest = `/v2/labs/mysql/manifests/${tag}`;
  const { headers } = await api.call("HEAD", manifest, 200);
  const [mediaType, digest] = [String(headers["content-type"]), String(headers["docker-content-digest"])];
  const platform = { architecture: "arm64", os: "linux" };
  const entry = { mediaType, digest, size: Number(headers["content-length"]), platform };
  await api.putManifest("labs/mysql", tag, { schemaVersion: 2, mediaType: INDEX, manifests: [entry] }, INDEX);
  const served = JSON.parse((await api.call("GET", manifest, 200)).body.toString());
  const listed = (served.manifests ?? []).map(
    (m: { platform: typeof platform }) => `${m.platform.os}/${m.platform.architecture}`,
  );
  if (served.mediaType !== INDEX || listed.join() !== "linux/arm64") {
    throw new Error(
      `${repository}:${tag} should be an index of linux/arm64 only; the registry serves ${served.mediaType} [${listed}]`,
    );
  }
  say(`${repository}:${tag} is an index listing only ${listed} (${digest.slice(0, 19)}…)`);
  return `${repository}:${tag}`;
}
