// A registry's own HTTP API, asked by the runner rather than through the engine.
import { request } from "undici";
import { parseReference } from "../catalogue/reference.ts";
import { LOOPBACK } from "./reach.ts";
import type { Credentials } from "./transfer.ts";

// Without the OCI types the registry refuses a manifest pushed from the containerd image store.
export const MANIFEST_TYPES = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

export const basicAuthorization = ({ username, password }: Credentials) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;

/** The digest a registry on this machine's loopback answers for `ref`'s tag (its Docker-Content-Digest). */
export async function loopbackManifestDigest(ref: string, credentials?: Credentials): Promise<string> {
  const { registry, repository, tag } = parseReference(ref);
  const [host, port] = registry.split(":");
  if (!port || (host !== "localhost" && host !== LOOPBACK)) {
    throw new Error(`${registry} is not a registry on this machine's loopback, which the runner could ask itself`);
  }
  const response = await request(`http://${LOOPBACK}:${port}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { accept: MANIFEST_TYPES, ...(credentials ? { authorization: basicAuthorization(credentials) } : {}) },
  });
  await response.body.dump();
  const digest = response.headers["docker-content-digest"];
  if (response.statusCode !== 200 || typeof digest !== "string") {
    throw new Error(`${registry} answered ${response.statusCode} for ${repository}:${tag}, without a digest`);
  }
  return digest;
}
