import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { catalogueEntry, type StandIn } from "./entries.ts";

const LAB_IMAGE = /labImage\("([^"]+)"\)/g;
const LAB_HELPER = /from "([^"]*helpers\/lab\/[\w-]+\.ts)"/g;

function imagesNamedIn(file: string, seen: Set<string>): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const source = readFileSync(file, "utf8");
  const helpers = [...source.matchAll(LAB_HELPER)].map(([, path]) => resolve(dirname(file), path!));
  return [...[...source.matchAll(LAB_IMAGE)].map(([, ref]) => ref!), ...helpers.flatMap((h) => imagesNamedIn(h, seen))];
}

// Only the images of the spec files this run will execute are resolved and pulled: a one-lab CI job pulls one lab's
// images. vitest keeps the command line's file filters on its instance; without them every file runs.
export async function imagesOfSelectedSpecs(project: TestProject): Promise<StandIn[]> {
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const { testFiles } = await project.globTestFiles(filters?.length ? filters : undefined);
  return imagesOfSpecFiles(testFiles);
}

export function imagesOfSpecFiles(files: string[]): StandIn[] {
  const seen = new Set<string>();
  return [...new Set(files.flatMap((file) => imagesNamedIn(resolve(file), seen)).map((ref) => catalogueEntry(ref)))];
}
