// Reads the tar stream `docker save` writes, entry by entry, without holding a layer in memory: a layer goes on to
// the registry while it is still being read from the engine.
const BLOCK = 512;

export interface TarEntry {
  path: string;
  type: "file" | "symlink" | "other";
  linkTarget: string;
  size: number;
  // The entry's bytes; consumed or not, the reader skips past them before the next entry.
  body: AsyncIterable<Buffer>;
}

class Bytes {
  private pending: Buffer = Buffer.alloc(0);
  private readonly source: AsyncIterator<Buffer>;
  constructor(source: AsyncIterator<Buffer>) {
    this.source = source;
  }

  private async more(): Promise<void> {
    const { value, done } = await this.source.next();
    if (done) throw new Error("docker save ended in the middle of an entry");
    this.pending = this.pending.length ? Buffer.concat([this.pending, value]) : value;
  }

  async take(count: number): Promise<Buffer> {
    while (this.pending.length < count) await this.more();
    const taken = this.pending.subarray(0, count);
    this.pending = this.pending.subarray(count);
    return taken;
  }

  // The zero blocks after the last entry: left unread, they would hold the engine's connection open.
  async drain(): Promise<void> {
    while (!(await this.source.next()).done);
  }

  // Whatever is at hand, up to `most` bytes: a layer passes through in the chunks the engine sent.
  async piece(most: number): Promise<Buffer> {
    if (this.pending.length === 0) await this.more();
    const piece = this.pending.subarray(0, Math.min(most, this.pending.length));
    this.pending = this.pending.subarray(piece.length);
    return piece;
  }
}

const text = (header: Buffer, from: number, length: number) =>
  header
    .subarray(from, from + length)
    .toString("utf8")
    .replace(/\0.*$/s, "");

const octal = (header: Buffer, from: number, length: number) => parseInt(text(header, from, length).trim() || "0", 8);

// PAX records ("<length> <key>=<value>\n") override the header for names or sizes the old format cannot hold.
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  for (const [, key, value] of data.toString("utf8").matchAll(/^\d+ ([^=]+)=(.*)$/gm)) records[key!] = value!;
  return records;
}

export async function* tarEntries(source: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const bytes = new Bytes(source[Symbol.asyncIterator]());
  let pax: Record<string, string> = {};
  for (;;) {
    const header = await bytes.take(BLOCK);
    if (header.every((byte) => byte === 0)) return bytes.drain();
    const flag = String.fromCharCode(header[156]!);
    const size = pax.size ? Number(pax.size) : octal(header, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === "x") {
      pax = paxRecords(await bytes.take(padded));
      continue;
    }
    const prefix = text(header, 257, 6) === "ustar" ? text(header, 345, 155) : "";
    const path = pax.path ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    const linkTarget = pax.linkpath ?? text(header, 157, 100);
    pax = {};
    // Counted here, not in the consumer: a consumer that stops early (a failed upload) must not shift the stream.
    let left = size;
    const body = (async function* () {
      while (left > 0) {
        const piece = await bytes.piece(left);
        left -= piece.length;
        yield piece;
      }
    })();
    const type = flag === "0" || flag === "\0" ? "file" : flag === "2" ? "symlink" : "other";
    yield { path, type, linkTarget, size, body };
    while (left > 0) left -= (await bytes.piece(left)).length;
    await bytes.take(padded - size);
  }
}

export async function wholeBody(entry: TarEntry): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of entry.body) pieces.push(piece);
  return Buffer.concat(pieces);
}
