import { buffer } from "node:stream/consumers";
import { imageArchive, tarEntries } from "../engine/archive.ts";
import { dockerApi } from "../engine/client.ts";

export interface ConfigHistoryEntry {
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  history?: ConfigHistoryEntry[];
  rootfs?: { diff_ids?: string[] };
}

const SMALL_FILE = 4 << 20;

// `docker image save IMAGE`, read for the image's config: the only place the engine shows which history entries made
// a layer (`empty_layer`). Layers are streamed past, never kept; the classic and the OCI layout both name the config
// in manifest.json.
export async function savedImageConfig(ref: string): Promise<ImageConfig> {
  const files = new Map<string, Buffer>();
  for await (const entry of tarEntries(await imageArchive(await dockerApi(), [ref]))) {
    const { name, type, size } = entry.header;
    if (type === "file" && size <= SMALL_FILE) files.set(name, await buffer(entry));
    else entry.resume();
  }
  const manifest = files.get("manifest.json");
  if (!manifest) throw new Error(`docker image save ${ref} has no manifest.json`);
  const [{ Config = "" } = {}] = JSON.parse(manifest.toString("utf8")) as { Config?: string }[];
  const config = files.get(Config);
  if (!config) throw new Error(`docker image save ${ref} has no config ${Config}`);
  return JSON.parse(config.toString("utf8")) as ImageConfig;
}
