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

const BLOCK = 512;
const SMALL_FILE = 4 << 20;

// `docker image save IMAGE`, read for the image's config: the only place the engine shows which history entries made
// a layer (`empty_layer`). Layers are streamed past, never kept; both the classic and the OCI layout name the config
// in manifest.json.
export async function savedImageConfig(ref: string): Promise<ImageConfig> {
  const files = await smallFilesOf((await (await dockerApi()).getImage(ref).get()) as AsyncIterable<Buffer>);
  const manifest = files.get("manifest.json");
  if (!manifest) throw new Error(`docker image save ${ref} has no manifest.json`);
  const [{ Config = "" } = {}] = JSON.parse(manifest.toString("utf8")) as { Config?: string }[];
  const config = files.get(Config);
  if (!config) throw new Error(`docker image save ${ref} has no config ${Config}`);
  return JSON.parse(config.toString("utf8")) as ImageConfig;
}

function field(header: Buffer, start: number, end: number): string {
  const text = header.toString("utf8", start, end);
  const nul = text.indexOf("\0");
  return nul === -1 ? text : text.slice(0, nul);
}

async function smallFilesOf(tar: AsyncIterable<Buffer>): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  let pending: Buffer = Buffer.alloc(0);
  let entry: { name: string; size: number; left: number; parts?: Buffer[] } | undefined;
  for await (const chunk of tar) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      if (entry) {
        const taken = pending.subarray(0, Math.min(entry.left, pending.length));
        entry.parts?.push(taken);
        entry.left -= taken.length;
        pending = pending.subarray(taken.length);
        if (entry.left > 0) break;
        if (entry.parts) files.set(entry.name, Buffer.concat(entry.parts).subarray(0, entry.size));
        entry = undefined;
      }
      if (pending.length < BLOCK) break;
      const header = pending.subarray(0, BLOCK);
      pending = pending.subarray(BLOCK);
      if (header.every((byte) => byte === 0)) continue;
      const prefix = field(header, 345, 500);
      const name = (prefix ? `${prefix}/` : "") + field(header, 0, 100);
      const size = parseInt(field(header, 124, 136).trim() || "0", 8);
      const regular = header[156] === 0x30 || header[156] === 0;
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      entry = { name, size, left: padded, ...(regular && size <= SMALL_FILE ? { parts: [] } : {}) };
    }
  }
  return files;
}
