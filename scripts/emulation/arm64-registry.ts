// A registry holding an image for linux/arm64 only, behind an index that lists that one platform: the shape in which
// an arm64-only image meets a user on an amd64 machine, and where a pull must ask for the lab's platform or find
// nothing. The registry stand-in runs in a container of a private engine, published on 127.0.0.1 only.
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { catalogueEntry } from "../../helpers/catalogue/entries.ts";
import type { Docker } from "../../helpers/engine/client.ts";
import { followProgress } from "../../helpers/engine/progress.ts";

const MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const INDEX = "application/vnd.docker.distribution.manifest.list.v2+json";
const ANSWERS_WITHIN_MS = 30_000;

async function registryAt(docker: Docker): Promise<string> {
  const container = await docker.createContainer({
    Image: catalogueEntry("registry:2").standIn,
    ExposedPorts: { "5000/tcp": {} },
    HostConfig: { PortBindings: { "5000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
  });
  await container.start();
  const port = (await container.inspect()).NetworkSettings.Ports["5000/tcp"]?.[0]?.HostPort;
  const base = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + ANSWERS_WITHIN_MS; ; await sleep(200)) {
    const status = await request(`${base}/v2/`).then(
      async (r) => (await r.body.dump(), r.statusCode),
      () => 0,
    );
    if (status === 200) return `127.0.0.1:${port}`;
    if (Date.now() > deadline) throw new Error(`the registry on ${base} did not answer within 30 s`);
  }
}

async function call(url: string, method: "HEAD" | "GET" | "PUT", headers: Record<string, string>, body?: string) {
  const response = await request(url, { method, headers, body });
  const text = method === "HEAD" ? "" : await response.body.text();
  if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${text.split("\n")[0]}`);
  return { headers: response.headers, text };
}

/** Pushes `image` as <registry>/labs/mysql:5.7-arm64, then puts an index listing only linux/arm64 over that tag. */
export async function arm64OnlyRef(docker: Docker, image: string, say: (line: string) => void): Promise<string> {
  const registry = await registryAt(docker);
  const [repository, tag] = [`${registry}/labs/mysql`, "5.7-arm64"];
  await docker.getImage(image).tag({ repo: repository, tag });
  const started = performance.now();
  await followProgress(docker, await docker.getImage(`${repository}:${tag}`).push({}));
  say(`pushed ${repository}:${tag} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const manifestUrl = `http://${registry}/v2/labs/mysql/manifests/${tag}`;
  const pushed = await call(manifestUrl, "HEAD", { accept: MANIFEST });
  const digest = String(pushed.headers["docker-content-digest"]);
  const size = Number(pushed.headers["content-length"]);
  const platform = { architecture: "arm64", os: "linux" };
  const index = { schemaVersion: 2, mediaType: INDEX, manifests: [{ mediaType: MANIFEST, digest, size, platform }] };
  await call(manifestUrl, "PUT", { "content-type": INDEX }, JSON.stringify(index));
  const served = JSON.parse((await call(manifestUrl, "GET", { accept: `${INDEX}, ${MANIFEST}` })).text);
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
