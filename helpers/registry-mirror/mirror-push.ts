import { posix } from "node:path";
import { buffer } from "node:stream/consumers";
import { imageArchive, tarEntries } from "../engine/archive.ts";
import type { Docker } from "../engine/client.ts";
import { MEDIA_TYPES, RegistryApi, type Descriptor } from "../registry/api.ts";

interface MirrorCopy {
  source: string; // the image on the engine, e.g. labs-stand-in/nginx:1.18
  repository: string; // where the mirror serves it, e.g. library/nginx
  tag: string;
}

const { ociManifest, ociConfig, ociLayer } = MEDIA_TYPES;
// Every layer is sent once, here, and mounted into each repository that uses it.
const LAYERS = "labs-mirror/layers";

interface Saved {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

// The images as the engine exports them, in one `docker save`: a base layer that several images share is in it once
// (the others hold a symlink to it). The config goes over byte for byte, so the image id and every label
// (labs.stand-in.* among them) are the same on the engine that pulls it.
export async function pushToMirror(
  docker: Docker,
  registry: string,
  copies: MirrorCopy[],
): Promise<{ digests: Map<string, string>; bytes: number }> {
  const upload = new RegistryApi(registry);
  const layers = new Map<string, Descriptor>();
  const links = new Map<string, string>();
  const files = new Map<string, Buffer>();
  const sources = copies.map(({ source }) => source);
  for await (const entry of tarEntries(await imageArchive(docker, sources))) {
    const { name, type, linkname } = entry.header;
    if (name.endsWith("/layer.tar") && type === "file") {
      layers.set(name, await upload.putBlob(LAYERS, entry as AsyncIterable<Buffer>, ociLayer));
    } else if (name.endsWith("/layer.tar") && type === "symlink") {
      links.set(name, posix.join(posix.dirname(name), linkname));
    } else if (type === "file" && !name.includes("/")) {
      files.set(name, await buffer(entry));
    } else entry.resume();
  }
  const manifest = JSON.parse(files.get("manifest.json")?.toString() ?? "[]") as Saved[];
  const digests = new Map<string, string>();
  for (const { source, repository, tag } of copies) {
    const image = manifest.find(({ RepoTags }) => RepoTags?.includes(source));
    const config = image && files.get(image.Config);
    if (!image || !config) throw new Error(`docker save did not export ${source}`);
    const parts = image.Layers.map((path) => layers.get(links.get(path) ?? path));
    if (parts.some((part) => !part)) throw new Error(`docker save exported ${source} without all of its layers`);
    for (const part of parts) await upload.mountBlob(repository, part!.digest, LAYERS);
    const oci = {
      schemaVersion: 2,
      mediaType: ociManifest,
      config: await upload.putBlob(repository, [config], ociConfig),
      layers: parts,
    };
    digests.set(source, await upload.putManifest(repository, tag, oci, ociManifest));
  }
  const bytes = [...layers.values()].reduce((sum, { size }) => sum + size, 0);
  return { digests, bytes };
}
