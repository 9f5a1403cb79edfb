import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

// The recipes live under images/, one folder each.
export const RECIPES = join(import.meta.dirname, "..", "..", "images");

// `basis` is what the recipe stands on (the base image's id for a stand-in): a rebuilt base makes every image on
// it stale even though no recipe file changed.
export async function recipeHash(dir: string, basis: string): Promise<string> {
  const hash = createHash("sha256").update(basis);
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  for (const file of files.sort()) {
    hash
      .update(relative(dir, file))
      .update("\0")
      .update(await readFile(file))
      .update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}
