import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Docker } from "../engine/client.ts";
import { followProgress } from "../engine/progress.ts";
import { BuildFailed, removeIfUntagged } from "./recipe-build.ts";
import { debianArchive } from "./debian-archive.ts";
import { RECIPES } from "./recipes.ts";

const TAIL_LINES = 40;
const RECIPE = join(RECIPES, "debian");

export interface BaseBuild {
  ref: string;
  changes: string[];
  signal: AbortSignal;
  say: (line: string) => void;
  // A Debian architecture other than the machine's (arm64): debootstrap runs its second stage under QEMU.
  arch?: string;
}

interface Exit {
  code: number | null;
  tail: string[];
}

// debootstrap and tar are not the engine: they stay child processes, ended through `signal` with the build.
function exitOf(child: ReturnType<typeof spawn>, onLine: (line: string) => void = () => {}): Promise<Exit> {
  const tail: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (line.trim() === "") continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      onLine(line);
    }
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return new Promise((resolve, reject) => {
    child.on("error", (error) => {
      if (child.pid === undefined) reject(error);
    });
    child.on("close", (code) => resolve({ code, tail }));
  });
}

function failure(what: string, { code, tail }: Exit): BuildFailed {
  const output = tail.map((line) => `  ${line}`).join("\n");
  // Where only the first line is shown (auto's build before the labs), it carries the tool's own reason: debootstrap
  // ends with "E: …" (an archive it cannot reach, a suite it does not find).
  const reason = tail.findLast((line) => line.startsWith("E: ")) ?? tail.at(-1) ?? "";
  return new BuildFailed(`${what} failed (exit ${code}): ${reason.trim()}\nits last output:\n${output}`);
}

// What dpkg.cfg keeps out of every later install, taken out of what debootstrap installed before it applied, and the
// package lists every recipe fetches afresh: as the official images, whose base ships neither.
async function slimmed(rootfs: string): Promise<void> {
  const under = (dir: string) => join(rootfs, dir);
  const keep = new Set(["copyright", "locale.alias"]);
  for (const dir of ["usr/share/man", "usr/share/info", "var/lib/apt/lists"]) {
    await rm(under(dir), { recursive: true, force: true });
    await mkdir(under(dir), { recursive: true });
  }
  for (const entry of await readdir(under("usr/share/locale")).catch(() => [])) {
    if (!keep.has(entry)) await rm(join(under("usr/share/locale"), entry), { recursive: true, force: true });
  }
  // A package's doc directory may be a symlink to another's: only real directories are entered.
  const docs = await readdir(under("usr/share/doc"), { withFileTypes: true }).catch(() => []);
  for (const pkg of docs.filter((entry) => entry.isDirectory()).map(({ name }) => name)) {
    for (const entry of await readdir(join(under("usr/share/doc"), pkg))) {
      if (!keep.has(entry)) await rm(join(under("usr/share/doc"), pkg, entry), { recursive: true, force: true });
    }
  }
  await mkdir(under("var/lib/apt/lists/partial"), { recursive: true });
}

async function bootstrapRootfs(rootfs: string, build: BaseBuild): Promise<void> {
  const conf = await readFile(join(RECIPE, "rootfs.conf"), "utf8");
  const setting = (key: string) => conf.match(new RegExp(`^${key}=(\\S+)`, "m"))?.[1] ?? "";
  const [suite, variant] = [setting("SUITE"), setting("VARIANT")];
  const arch = build.arch ? [`--arch=${build.arch}`] : [];
  build.say(`debootstrap ${[...arch, `--variant=${variant}`, suite].join(" ")} (about 30 s natively)`);
  const mirror = await debianArchive();
  const args = [...arch, `--variant=${variant}`, suite, rootfs, ...(mirror ? [mirror] : [])];
  const debootstrap = spawn("debootstrap", args, { stdio: ["ignore", "pipe", "pipe"], signal: build.signal });
  const exit = await exitOf(debootstrap, (line) => {
    if (line.startsWith("I: Retrieving Release") || line.startsWith("I: Base system installed")) build.say(line);
  });
  if (exit.code !== 0) throw failure("debootstrap", exit);
  await copyFile(join(RECIPE, "policy-rc.d"), join(rootfs, "usr/sbin/policy-rc.d"));
  await copyFile(join(RECIPE, "apt.conf"), join(rootfs, "etc/apt/apt.conf.d/90labs-stand-in"));
  await copyFile(join(RECIPE, "dpkg.cfg"), join(rootfs, "etc/dpkg/dpkg.cfg.d/90labs-stand-in"));
  await rm(join(rootfs, "var/cache/apt/archives"), { recursive: true, force: true });
  await mkdir(join(rootfs, "var/cache/apt/archives/partial"), { recursive: true });
  await slimmed(rootfs);
  await writeFile(join(rootfs, "etc/hostname"), "");
}

// Imported untagged and tagged only once tar has exited 0: a truncated archive must never become the base.
async function importedImageId(docker: Docker, rootfs: string, build: BaseBuild): Promise<string> {
  const tar = spawn("tar", ["-C", rootfs, "-c", "."], { stdio: ["ignore", "pipe", "pipe"], signal: build.signal });
  const tarExit = exitOf(tar);
  const platform = build.arch ? { platform: `linux/${build.arch}` } : {};
  const stream = await docker.importImage(tar.stdout!, {
    changes: build.changes,
    abortSignal: build.signal,
    ...platform,
  });
  const events = await followProgress(docker, stream);
  const id = events.map(({ status }) => status).find((status) => /^sha256:[0-9a-f]{64}$/.test(status ?? ""));
  const exit = await tarExit;
  if (exit.code !== 0) {
    if (id) await removeIfUntagged(docker, id);
    throw failure("tar of the root file system", exit);
  }
  if (!id) throw new BuildFailed(`docker import answered without an image id: ${JSON.stringify(events)}`);
  return id;
}

// `debootstrap` + `docker import`: the base of every stand-in, made from Debian's archive with no registry.
export async function importedBaseId(docker: Docker, build: BaseBuild): Promise<string> {
  if (!existsSync("/usr/sbin/debootstrap")) {
    throw new BuildFailed("debootstrap is missing: install it with `apt-get install -y debootstrap` (needs root)");
  }
  // debootstrap would say so too, but only after its first steps and among their output.
  if (process.getuid?.() !== 0) {
    throw new BuildFailed(
      'debootstrap needs root: build the stand-ins as root (`sudo env "PATH=$PATH" npm run images:build`)',
    );
  }
  const rootfs = await mkdtemp(join(tmpdir(), "labs-rootfs-"));
  try {
    await bootstrapRootfs(rootfs, build);
    build.say(`docker import -> ${build.ref}`);
    const id = await importedImageId(docker, rootfs, build);
    const at = build.ref.lastIndexOf(":");
    await docker.getImage(id).tag({ repo: build.ref.slice(0, at), tag: build.ref.slice(at + 1) });
    return id;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
