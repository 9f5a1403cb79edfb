import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterAll, describe, expect, it } from "vitest";
import { tarEntries } from "../../helpers/engine/archive.ts";

const dir = mkdtempSync(join(tmpdir(), "labs-tar-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// One name the old header's prefix field can hold (ustar), one only a PAX record can (a component beyond 100 bytes).
const SPLIT = `${"c".repeat(90)}/${"d".repeat(30)}`;
const LONG = `${"a".repeat(60)}/${"b".repeat(120)}.tar`;
const LAYER = Buffer.from(Array.from({ length: 70_001 }, (_, i) => i % 251));

// A stream as the engine sends it: in chunks that end anywhere, not on a tar block.
const inChunks = (data: Buffer, size: number) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
    })(),
  );

// bsdtar (macOS's tar, and Windows' own tar.exe) reads the symlink entry from an mtree description, since Windows
// makes a symlink only in Developer Mode; GNU tar (Linux) archives a real one. On Windows, System32's tar.exe is
// bsdtar, where Git Bash's GNU tar may come first on PATH.
const TAR = process.platform === "win32" ? join(process.env.SystemRoot ?? "C:\\Windows", "System32", "tar.exe") : "tar";
const bsdtar = execFileSync(TAR, ["--version"]).toString().includes("bsdtar");

function archive(format: "pax" | "ustar"): Buffer {
  const root = mkdtempSync(join(dir, `${format}-`));
  const files = Object.entries({
    "1111/layer.tar": LAYER,
    "manifest.json": '[{"Config":"c.json"}]',
    empty: "",
    [SPLIT]: "split",
    ...(format === "pax" ? { [LONG]: "long" } : {}),
  });
  if (bsdtar) {
    files.forEach(([, content], index) => writeFileSync(join(root, `f${index}`), content));
    const mtree = [
      "#mtree",
      "2222/layer.tar type=link link=../1111/layer.tar",
      ...files.map(([name], index) => `${name} type=file contents=f${index}`),
    ];
    writeFileSync(join(root, "archive.mtree"), `${mtree.join("\n")}\n`);
    return execFileSync(TAR, [`--format=${format}`, "-cf", "-", "@archive.mtree"], { cwd: root });
  }
  for (const [name, content] of files) {
    mkdirSync(join(root, name, ".."), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  mkdirSync(join(root, "2222"));
  symlinkSync("../1111/layer.tar", join(root, "2222", "layer.tar"));
  const names = ["1111", "2222", "manifest.json", "empty", SPLIT, ...(format === "pax" ? [LONG] : [])];
  return execFileSync(TAR, [`--format=${format}`, "-C", root, "-cf", "-", ...names]);
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
      const { name, type, size, linkname } = entry.header;
      seen[name] = type === "symlink" ? `-> ${linkname}` : `${type} ${size}`;
      const body = await buffer(entry);
      if (name === "1111/layer.tar") layer = body;
      if (name === "manifest.json") expect(body.toString()).toBe('[{"Config":"c.json"}]');
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

  it("an entry its reader skips does not shift the next one", async () => {
    const paths: string[] = [];
    for await (const entry of tarEntries(inChunks(archive("ustar"), 1000))) {
      paths.push(entry.header.name);
      entry.resume();
    }
    expect(paths).toEqual(expect.arrayContaining(["1111/layer.tar", "2222/layer.tar", "manifest.json", "empty"]));
  });

  it("a stream that ends inside an entry is an error, not a short layer", async () => {
    const cut = archive("ustar").subarray(0, 3000);
    const read = async () => {
      for await (const entry of tarEntries(inChunks(cut, 512))) await buffer(entry);
    };
    await expect(read()).rejects.toThrow("Unexpected end of data");
  });
});
