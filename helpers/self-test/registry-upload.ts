import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { request } from "undici";

type Method = "POST" | "PATCH" | "PUT";
const BYTES = "application/octet-stream";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

// The registry API calls (OCI distribution spec) that put an image into a registry: what `docker push` does, minus
// the gzip of every layer, which costs minutes on two cores and which a registry on 127.0.0.1 does not need.
export class RegistryUpload {
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  private async call(method: Method, path: string | URL, want: number, body?: Buffer | Readable, type?: string) {
    const url = new URL(path, this.base);
    const response = await request(url, { method, body, headers: type ? { "content-type": type } : {} });
    const text = await response.body.text();
    if (response.statusCode !== want) {
      const why = text.trim().split("\n")[0];
      throw new Error(`${method} ${url.pathname}: the registry answered ${response.statusCode} (${why}), not ${want}`);
    }
    const header = (name: string) => new URL(String(response.headers[name] ?? ""), this.base);
    return { location: () => header("location"), digest: () => response.headers["docker-content-digest"] };
  }

  private async session(repository: string): Promise<URL> {
    return (await this.call("POST", `/v2/${repository}/blobs/uploads/`, 202)).location();
  }

  // Streamed in one PATCH and hashed on the way: the digest is known only once the last byte has gone.
  async streamBlob(repository: string, body: AsyncIterable<Buffer>, mediaType: string): Promise<Descriptor> {
    const hash = createHash("sha256");
    let size = 0;
    const counted = (async function* () {
      for await (const piece of body) {
        hash.update(piece);
        size += piece.length;
        yield piece;
      }
    })();
    const patched = await this.call("PATCH", await this.session(repository), 202, Readable.from(counted), BYTES);
    const digest = `sha256:${hash.digest("hex")}`;
    const done = patched.location();
    done.searchParams.set("digest", digest);
    await this.call("PUT", done, 201);
    return { mediaType, digest, size };
  }

  async putBlob(repository: string, data: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    const target = await this.session(repository);
    target.searchParams.set("digest", digest);
    await this.call("PUT", target, 201, data, BYTES);
    return { mediaType, digest, size: data.length };
  }

  // A blob already in the registry is linked into another repository without being sent again.
  async mountBlob(repository: string, digest: string, from: string): Promise<void> {
    const query = new URLSearchParams({ mount: digest, from });
    await this.call("POST", `/v2/${repository}/blobs/uploads/?${query}`, 201);
  }

  // Returns the manifest's digest: the RepoDigest an engine records when it pulls this tag.
  async putManifest(repository: string, tag: string, manifest: object, mediaType: string): Promise<string> {
    const body = Buffer.from(JSON.stringify(manifest));
    const put = await this.call("PUT", `/v2/${repository}/manifests/${tag}`, 201, body, mediaType);
    return String(put.digest() ?? `sha256:${createHash("sha256").update(body).digest("hex")}`);
  }
}
