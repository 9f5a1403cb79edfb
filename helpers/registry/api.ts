import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { request } from "undici";

// The registry API's media types, written out here only.
export const MEDIA_TYPES = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerIndex: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
} as const;

// Every kind of manifest, asked for on every call: without the OCI types the registry does not serve a manifest pushed
// from the containerd image store.
const { dockerManifest, dockerIndex, ociManifest, ociIndex } = MEDIA_TYPES;
export const MANIFEST_TYPES = [dockerManifest, dockerIndex, ociManifest, ociIndex].join(", ");

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

type Method = "GET" | "HEAD" | "POST" | "PATCH" | "PUT";
const BYTES = "application/octet-stream";

// The registry HTTP API (OCI distribution spec) at "host:port", over plain HTTP as a registry on loopback speaks it.
// Putting an image in this way is what `docker push` does, minus the gzip of every layer, which costs minutes on two
// cores and which a registry on 127.0.0.1 does not need.
export class RegistryApi {
  readonly base: string;
  private readonly authorization: Record<string, string>;
  constructor(address: string, credentials?: { username: string; password: string } | null) {
    this.base = `http://${address}`;
    const basic = credentials && Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
    this.authorization = basic ? { authorization: `Basic ${basic}` } : {};
  }

  async ask(method: Method, path: string | URL, body?: Buffer | Readable, type?: string) {
    const headers = { ...this.authorization, accept: MANIFEST_TYPES, ...(type ? { "content-type": type } : {}) };
    const response = await request(new URL(path, this.base), { method, body, headers });
    return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.bytes()) };
  }

  // A call that must answer `want`; any other answer is an error that names the registry's reason.
  async call(method: Method, path: string | URL, want: number, body?: Buffer | Readable, type?: string) {
    const answer = await this.ask(method, path, body, type);
    if (answer.status !== want) {
      const why = answer.body.toString().trim().split("\n")[0];
      const { pathname } = new URL(path, this.base);
      throw new Error(`${method} ${pathname}: the registry answered ${answer.status} (${why}), not ${want}`);
    }
    return answer;
  }

  // A step of a blob upload: the registry's answer names where the next one goes.
  private async upload(method: Method, path: string | URL, want: number, body?: Readable, type?: string) {
    const { headers } = await this.call(method, path, want, body, type);
    return new URL(String(headers.location ?? ""), this.base);
  }

  // Streamed in one PATCH and hashed on the way: the digest is known only once the last byte has gone.
  async putBlob(repository: string, body: AsyncIterable<Buffer> | Buffer[], mediaType: string): Promise<Descriptor> {
    const hash = createHash("sha256");
    let size = 0;
    const counted = (async function* () {
      for await (const piece of body) {
        hash.update(piece);
        size += piece.length;
        yield piece;
      }
    })();
    const session = await this.upload("POST", `/v2/${repository}/blobs/uploads/`, 202);
    const done = await this.upload("PATCH", session, 202, Readable.from(counted), BYTES);
    const digest = `sha256:${hash.digest("hex")}`;
    done.searchParams.set("digest", digest);
    await this.call("PUT", done, 201);
    return { mediaType, digest, size };
  }

  // A blob already in the registry is linked into another repository without being sent again.
  async mountBlob(repository: string, digest: string, from: string): Promise<void> {
    const query = new URLSearchParams({ mount: digest, from });
    await this.call("POST", `/v2/${repository}/blobs/uploads/?${query}`, 201);
  }

  // Returns the manifest's digest: the RepoDigest an engine records when it pulls this tag.
  async putManifest(repository: string, tag: string, manifest: object, mediaType: string): Promise<string> {
    const body = Buffer.isBuffer(manifest) ? manifest : Buffer.from(JSON.stringify(manifest));
    const put = await this.call("PUT", `/v2/${repository}/manifests/${tag}`, 201, body, mediaType);
    return String(put.headers["docker-content-digest"] ?? `sha256:${createHash("sha256").update(body).digest("hex")}`);
  }
}
