import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tarEntries, wholeBody } from "../../helpers/engine/saved-images.ts";

const dir = mkdtempSync(join(tmpdir(), "labs-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One name the old header's prefix field can hold (ustar), one only a PAX record can (a component beyond 100 bytes).
const SPLIT = `${"c".repeat(90)}/${"d".repeat(30)}`;
const LONG = `${"a".repeat(60)}/${"b".repeat(120)}.tar`;
const LAYER = Buffer.from(Array.from({ length: 70_001 }, (_, i) => i % 251));

// A stream as the engine sends it: in chunks that end anywhere, not on a tar block.
async function* inChunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

function archive(format: "pax" | "ustar"): Buffer {
  const root = mkdtempSync(join(dir, `${format}-`));
  mkdirSync(join(root, "1111"));
  writeFileSync(join(root, "1111", "layer.tar"), LAYER);
  mkdirSync(join(root, "2222"));
  symlinkSync("../1111/layer.tar", join(root, "2222", "layer.tar"));
  writeFileSync(join(root, "manifest.json"), '[{"Config":"c.json"}]');
  writeFileSync(join(root, "empty"), "");
  mkdirSync(join(root, SPLIT, ".."));
  writeFileSync(join(root, SPLIT), "split");
  const names = ["1111", "2222", "manifest.json", "empty", SPLIT];
  if (format === "pax") {
    mkdirSync(join(root, LONG, ".."), { recursive: true });
    writeFileSync(join(root, LONG), "long");
    names.push(LONG);
  }
  return execFileSync("tar", [`--format=${format}`, "-C", root, "-cf", "-", ...names]);
}

describe("reading docker save's tar stream", () => {
  it.each([
    ["ustar", 7],
    ["pax", 7],
    ["pax", 4096],
  ] as const)("%s archive in chunks of %i bytes: every entry, its type, target and bytes", async (format, chunk) => {
    const seen: Record<string, string> = {};
    let layer: Buffer | undefined;
    for await (const entry of tarEntries(inChunks(archive(format), chunk))) {
      seen[entry.path] = entry.type === "symlink" ? `-> ${entry.linkTarget}` : `${entry.type} ${entry.size}`;
      if (entry.path === "1111/layer.tar") layer = await wholeBody(entry);
      if (entry.path === "manifest.json") expect((await wholeBody(entry)).toString()).toBe('[{"Config":"c.json"}]');
    }
    expect(layer?.equals(LAYER)).toBe(true);
    expect(seen).toMatchObject({
      "1111/layer.tar": `file ${LAYER.length}`,
      "2222/layer.tar": "-> ../1111/layer.tar",
      "manifest.json": "file 21",
      empty: "file 0",
      [SPLIT]: "file 5",
    });
    if (format === "pax") expect(seen[LONG]).toBe("file 4");
  });

  it("an entry its reader leaves half-read does not shift the next one", async () => {
    const paths: string[] = [];
    for await (const entry of tarEntries(inChunks(archive("ustar"), 1000))) {
      paths.push(entry.path);
      for await (const piece of entry.body) if (piece.length) break;
    }
    expect(paths).toEqual(expect.arrayContaining(["1111/layer.tar", "2222/layer.tar", "manifest.json", "empty"]));
  });

  it("a stream that ends inside an entry is an error, not a short layer", async () => {
    const cut = archive("ustar").subarray(0, 3000);
    const read = async () => {
      for await (const entry of tarEntries(inChunks(cut, 512))) await wholeBody(entry);
    };
    await expect(read()).rejects.toThrow("docker save ended in the middle of an entry");
  });
});
