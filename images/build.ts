// Builds the local stand-in images from Debian packages: `npm run images:build [recipe ...]`.
// An image whose recipe hash matches its label is kept; everything else is rebuilt, base first.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { CATALOGUE, STAND_IN_BASE, STAND_IN_LABELS, type StandIn } from "../helpers/catalogue/entries.ts";
import { dockerApi } from "../helpers/engine/client.ts";
import { engineFacts } from "../helpers/engine/facts.ts";
import { debianMirror } from "./mirror.ts";

const RECIPES = import.meta.dirname;
const PARALLEL_BUILDS = 3;
const COLD_TARGET_S = 240;
const WARM_TARGET_S = 10;

interface Run {
  code: number;
  output: string[];
}

const children = new Set<ReturnType<typeof spawn>>();
const scratch = new Set<string>();

// Ctrl-C or SIGTERM: stop the builds (docker cancels a build whose client goes away, and --force-rm drops its
// intermediate container) and remove the debootstrap scratch folder before exiting.
let stopping: NodeJS.Signals | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    stopping = signal;
    console.error(`stand-ins: ${signal}, stopping the builds`);
    for (const child of children) child.kill(signal);
    await Promise.all([...children].map((child) => once(child, "close")));
    await Promise.all([...scratch].map((dir) => rm(dir, { recursive: true, force: true })));
    await pruneIntermediatesUntilGone();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

// A cancelled or superseded build leaves untagged step images behind; each carries the recipe's stand-in label.
async function pruneIntermediates(): Promise<void> {
  await run("docker", ["image", "prune", "--force", "--filter", `label=${STAND_IN_LABELS.for}`], () => {});
}

// A cancelled build's last step container holds its step image until the engine removes it, a moment after the
// client is gone: prune until no such image is left (bounded).
async function pruneIntermediatesUntilGone(): Promise<void> {
  const deadline = Date.now() + 10_000;
  const dangling = ["images", "-q", "--filter", "dangling=true", "--filter", `label=${STAND_IN_LABELS.for}`];
  do {
    await pruneIntermediates();
    if ((await run("docker", dangling, () => {})).output.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  } while (Date.now() < deadline);
}

function run(
  command: string,
  args: string[],
  onLine: (line: string) => void,
  input?: NodeJS.ReadableStream,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
    children.add(child);
    child.on("close", () => children.delete(child));
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() === "") continue;
        output.push(line);
        onLine(line);
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    if (input && child.stdin) input.pipe(child.stdin);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

async function recipeHash(recipe: string, baseHash: string): Promise<string> {
  const hash = createHash("sha256").update(baseHash);
  const dir = join(RECIPES, recipe);
  for (const file of await filesOf(dir)) {
    hash
      .update(relative(dir, file))
      .update("\0")
      .update(await readFile(file))
      .update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

async function labelOf(ref: string): Promise<string | undefined> {
  const { code, output } = await run(
    "docker",
    ["image", "inspect", "--format", `{{index .Config.Labels "${STAND_IN_LABELS.recipe}"}}`, ref],
    () => {},
  );
  return code === 0 ? output[0]?.trim() : undefined;
}

function say(name: string, message: string): void {
  console.log(`[${name}] ${message}`);
}

class BuildFailed extends Error {}

function failWith(name: string, what: string, result: Run): never {
  const tail = result.output.slice(-40).map((line) => `  ${line}`);
  throw new BuildFailed(`[${name}] ${what} failed (exit ${result.code}); its last output:\n${tail.join("\n")}`);
}

async function buildBase(entry: StandIn, hash: string): Promise<void> {
  const conf = await readFile(join(RECIPES, "debian", "rootfs.conf"), "utf8");
  const setting = (key: string) => conf.match(new RegExp(`^${key}=(\\S+)`, "m"))?.[1] ?? "";
  const [suite, variant] = [setting("SUITE"), setting("VARIANT")];
  if (!existsSync("/usr/sbin/debootstrap")) {
    throw new BuildFailed(
      "[debian] debootstrap is missing: install it with `apt-get install -y debootstrap` (needs root)",
    );
  }
  const mirror = await debianMirror();
  const rootfs = await mkdtemp(join(tmpdir(), "labs-rootfs-"));
  scratch.add(rootfs);
  try {
    say(entry.recipe, `debootstrap --variant=${variant} ${suite} (about 30 s)`);
    const bootstrap = await run("debootstrap", [`--variant=${variant}`, suite, rootfs, mirror], (line) => {
      if (line.startsWith("I: Retrieving Release") || line.startsWith("I: Base system installed"))
        say(entry.recipe, line);
    });
    if (bootstrap.code !== 0) failWith(entry.recipe, "debootstrap", bootstrap);
    await copyFile(join(RECIPES, "debian", "policy-rc.d"), join(rootfs, "usr/sbin/policy-rc.d"));
    await copyFile(join(RECIPES, "debian", "apt.conf"), join(rootfs, "etc/apt/apt.conf.d/90labs-stand-in"));
    await copyFile(join(RECIPES, "debian", "dpkg.cfg"), join(rootfs, "etc/dpkg/dpkg.cfg.d/90labs-stand-in"));
    await rm(join(rootfs, "var/cache/apt/archives"), { recursive: true, force: true });
    await mkdir(join(rootfs, "var/cache/apt/archives/partial"), { recursive: true });
    await writeFile(join(rootfs, "etc/hostname"), "");

    say(entry.recipe, `docker import -> ${entry.standIn}`);
    const tar = spawn("tar", ["-C", rootfs, "-c", "."], { stdio: ["ignore", "pipe", "inherit"] });
    children.add(tar);
    const changes = [
      `LABEL ${STAND_IN_LABELS.for}="${entry.official}" ${STAND_IN_LABELS.lacks}="" ${STAND_IN_LABELS.recipe}="${hash}"`,
      'CMD ["bash"]',
    ].flatMap((change) => ["--change", change]);
    const imported = await run("docker", ["import", ...changes, "-", entry.standIn], () => {}, tar.stdout);
    if (imported.code !== 0) failWith(entry.recipe, "docker import", imported);
  } finally {
    await rm(rootfs, { recursive: true, force: true });
    scratch.delete(rootfs);
  }
}

async function buildImage(entry: StandIn, hash: string): Promise<void> {
  const args = [
    "build",
    "--network",
    "host",
    "--force-rm",
    ...(forced.has(entry.recipe) ? ["--no-cache"] : []),
    "--label",
    `${STAND_IN_LABELS.recipe}=${hash}`,
    "-t",
    entry.standIn,
  ];
  const result = await run("docker", [...args, join(RECIPES, entry.recipe)], (line) => {
    if (line.startsWith("Step ")) say(entry.recipe, line.length > 110 ? `${line.slice(0, 107)}...` : line);
  });
  if (result.code !== 0) failWith(entry.recipe, "docker build", result);
}

async function removeIfDangling(imageId: string | undefined): Promise<void> {
  if (imageId) await run("docker", ["image", "rm", imageId], () => {});
}

async function imageId(ref: string): Promise<string | undefined> {
  const { code, output } = await run("docker", ["image", "inspect", "--format", "{{.Id}}", ref], () => {});
  return code === 0 ? output[0]?.trim() : undefined;
}

const forced = new Set<string>();

async function ensure(entry: StandIn, hash: string): Promise<"built" | "up to date"> {
  if (!forced.has(entry.recipe) && (await labelOf(entry.standIn)) === hash) return "up to date";
  const previous = await imageId(entry.standIn);
  const started = performance.now();
  say(entry.recipe, `building ${entry.standIn} (stand-in for ${entry.official})`);
  await (entry.standIn === STAND_IN_BASE ? buildBase(entry, hash) : buildImage(entry, hash));
  say(entry.recipe, `built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (previous !== (await imageId(entry.standIn))) await removeIfDangling(previous);
  return "built";
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const failures: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      await work(item).catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  if (failures.length > 0) throw failures[0];
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  if (process.argv.includes("--force")) for (const recipe of wanted) forced.add(recipe);
  if (process.argv.includes("--for-local-runs") && process.env.LABS_IMAGES !== "local") {
    console.log(`stand-ins: LABS_IMAGES=${process.env.LABS_IMAGES ?? "auto"}, so nothing is built before the labs`);
    return;
  }
  const unknown = wanted.filter((name) => !CATALOGUE.some(({ recipe }) => recipe === name));
  if (unknown.length > 0) {
    throw new BuildFailed(
      `unknown recipe ${unknown.join(", ")}; recipes: ${CATALOGUE.map(({ recipe }) => recipe).join(", ")}`,
    );
  }
  const engine = await engineFacts(await dockerApi());
  console.log(`stand-ins: building on Docker ${engine.version} (${engine.os}/${engine.arch}) at ${engine.endpoint}`);

  const started = performance.now();
  const outcomes = new Map<string, string>();
  const base = CATALOGUE.find(({ standIn }) => standIn === STAND_IN_BASE)!;
  const baseHash = await recipeHash(base.recipe, "");
  outcomes.set(base.recipe, await ensure(base, baseHash));

  const images = CATALOGUE.filter((entry) => entry !== base && (wanted.length === 0 || wanted.includes(entry.recipe)));
  await inParallel(images, PARALLEL_BUILDS, async (entry) => {
    outcomes.set(entry.recipe, await ensure(entry, await recipeHash(entry.recipe, baseHash)));
  });

  if ([...outcomes.values()].includes("built")) await pruneIntermediates();
  const seconds = (performance.now() - started) / 1000;
  for (const [recipe, outcome] of outcomes) console.log(`  ${recipe.padEnd(9)} ${outcome}`);
  const built = [...outcomes.values()].filter((outcome) => outcome === "built").length;
  const cold = outcomes.get(base.recipe) === "built";
  const [kind, target] = cold
    ? ["cold build", COLD_TARGET_S]
    : built === 0
      ? ["no-change rebuild", WARM_TARGET_S]
      : ["partial rebuild", COLD_TARGET_S];
  console.log(
    `benchmark: ${kind} of ${outcomes.size} stand-ins in ${seconds.toFixed(1)} s (${built} built) ` +
      `on ${(await import("node:os")).availableParallelism()} cores; target < ${target} s: ${seconds < target ? "met" : "MISSED"}`,
  );
}

main().catch((error: unknown) => {
  // A build failing because it was cancelled is not news: the signal handler finishes the cleanup and exits.
  if (stopping) return;
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
