// The mysql stand-in for linux/arm64, from the very recipes of the amd64 one (images/debian, images/mysql), built on
// a private engine: debootstrap's second stage and every RUN step execute under QEMU, which takes minutes. Private
// engines are thrown away after each run, so the result is kept as a `docker save` archive outside any engine and
// loaded next time; as in helpers/stand-ins/build.ts, an image is up to date when its recipe-hash label matches.
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { catalogueEntry, STAND_IN_BASE, STAND_IN_LABELS } from "../../helpers/catalogue/entries.ts";
import { imageArchive } from "../../helpers/engine/archive.ts";
import type { Docker } from "../../helpers/engine/client.ts";
import { followProgress } from "../../helpers/engine/progress.ts";
import { importedBaseId } from "../../helpers/stand-ins/base.ts";
import { imageBuiltFrom } from "../../helpers/stand-ins/recipe-build.ts";
import { RECIPES, recipeHash } from "../../helpers/stand-ins/recipes.ts";
import { since } from "../../helpers/util/time.ts";

export const ARM64 = "linux/arm64";
export const CACHE = "/var/cache/container-labs/arm64-stand-ins.tar";
// What the archive holds, so that whether it is up to date is known without loading it into an engine.
const CACHE_RECIPES = `${CACHE}.json`;
const MYSQL = catalogueEntry("mysql:5.7");
const BASE = catalogueEntry("debian:bullseye");

const labelOf = async (docker: Docker, ref: string) =>
  (
    await docker
      .getImage(ref)
      .inspect()
      .catch(() => undefined)
  )?.Config?.Labels?.[STAND_IN_LABELS.recipe];

async function save(docker: Docker, refs: string[]): Promise<void> {
  await mkdir(dirname(CACHE), { recursive: true });
  const partial = `${CACHE}.partial`;
  // Written aside and renamed: an interrupted save must never be loaded as the cache.
  await pipeline(await imageArchive(docker, refs), createWriteStream(partial));
  await rename(partial, CACHE);
}

/** True when the archive holds both images built from today's recipes (as last recorded beside it). */
export async function arm64CacheUpToDate(): Promise<boolean> {
  if (!existsSync(CACHE)) return false;
  const text = await readFile(CACHE_RECIPES, "utf8").catch(() => "");
  if (!text) return false;
  const cached = JSON.parse(text) as { baseHash: string; baseId: string; mysqlHash: string };
  return (
    cached.baseHash === (await recipeHash(join(RECIPES, BASE.recipe), ARM64)) &&
    cached.mysqlHash === (await recipeHash(join(RECIPES, MYSQL.recipe), cached.baseId))
  );
}

/** Loads the cache (if any), builds what is missing or stale, saves again if it built. `docker` is a private engine.
 * Returns the arm64 mysql stand-in's ref on it, what had to be built (none on a warm run) and the time of each part. */
export async function arm64MySql(docker: Docker, signal: AbortSignal, say: (line: string) => void) {
  const seconds = { load: 0, base: 0, mysql: 0, save: 0 };
  let start = performance.now();
  if (existsSync(CACHE)) {
    say(`loading ${CACHE} (${((await stat(CACHE)).size / 2 ** 20).toFixed(0)} MiB)`);
    await followProgress(docker, await docker.loadImage(createReadStream(CACHE), { quiet: true }));
    seconds.load = since(start);
  }
  const built: string[] = [];
  const baseHash = await recipeHash(join(RECIPES, BASE.recipe), ARM64);
  if ((await labelOf(docker, STAND_IN_BASE)) !== baseHash) {
    start = performance.now();
    const labels = `${STAND_IN_LABELS.for}="${BASE.official}" ${STAND_IN_LABELS.lacks}="" ${STAND_IN_LABELS.recipe}="${baseHash}"`;
    await importedBaseId(docker, {
      ref: STAND_IN_BASE,
      changes: [`LABEL ${labels}`, 'CMD ["bash"]'],
      signal,
      say,
      arch: "arm64",
    });
    built.push(STAND_IN_BASE);
    seconds.base = since(start);
    // Kept at once: the base costs most of a cold build, and a failing mysql recipe must not throw it away.
    await save(docker, [STAND_IN_BASE]);
  }
  const baseId = (await docker.getImage(STAND_IN_BASE).inspect()).Id;
  const mysqlHash = await recipeHash(join(RECIPES, MYSQL.recipe), baseId);
  if ((await labelOf(docker, MYSQL.standIn)) !== mysqlHash) {
    start = performance.now();
    say(`building ${MYSQL.standIn} for ${ARM64}: every RUN step under QEMU`);
    await imageBuiltFrom(docker, join(RECIPES, MYSQL.recipe), {
      tag: MYSQL.standIn,
      labels: { [STAND_IN_LABELS.recipe]: mysqlHash },
      platform: ARM64,
      signal,
      onLine: (line) => /^Step /.test(line) && say(line.slice(0, 110)),
    });
    built.push(MYSQL.standIn);
    seconds.mysql = since(start);
  }
  const { Os, Architecture } = await docker.getImage(MYSQL.standIn).inspect();
  if (`${Os}/${Architecture}` !== ARM64)
    throw new Error(`${MYSQL.standIn} came out ${Os}/${Architecture}, not ${ARM64}`);
  if (built.includes(MYSQL.standIn)) {
    start = performance.now();
    await save(docker, [STAND_IN_BASE, MYSQL.standIn]);
    seconds.save = since(start);
    say(`kept in ${CACHE} for the next run`);
  }
  await rm(`${CACHE}.partial`, { force: true });
  await writeFile(CACHE_RECIPES, JSON.stringify({ baseHash, baseId, mysqlHash }));
  return { ref: MYSQL.standIn, built, seconds };
}
