import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { CATALOGUE, type StandIn } from "../helpers/catalogue/entries.ts";
import { BuildFailed } from "./engine-build.ts";

export const RECIPES = import.meta.dirname;

async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

// `basis` is what the recipe stands on (the base image's id for a stand-in): a rebuilt base makes every image on
// it stale even though no recipe file changed.
export async function recipeHash(dir: string, basis: string): Promise<string> {
  const hash = createHash("sha256").update(basis);
  for (const file of await filesOf(dir)) {
    hash
      .update(relative(dir, file))
      .update("\0")
      .update(await readFile(file))
      .update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

// `[--force] [--for-local-runs] [recipe ...]`: no recipe named means all of them; a typo is an error.
export function recipesWanted(argv: string[]): { wanted: StandIn[]; forced: Set<string>; forLocalRuns: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { force: { type: "boolean", default: false }, "for-local-runs": { type: "boolean", default: false } },
  });
  const unknown = positionals.filter((name) => !CATALOGUE.some(({ recipe }) => recipe === name));
  if (unknown.length > 0) {
    const known = CATALOGUE.map(({ recipe }) => recipe).join(", ");
    throw new BuildFailed(`unknown recipe ${unknown.join(", ")}; recipes: ${known}`);
  }
  const wanted = CATALOGUE.filter(({ recipe }) => positionals.length === 0 || positionals.includes(recipe));
  const forced = new Set(values.force ? wanted.map(({ recipe }) => recipe) : []);
  return { wanted, forced, forLocalRuns: values["for-local-runs"] };
}
