import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { catalogueEntry } from "../../helpers/catalogue/entries.ts";

export const ROOT = join(import.meta.dirname, "..", "..");
const BROKEN = join(ROOT, "images", "broken");
const DECLARATION = "catches.json";
const KEYS = ["stands for", "steps"];
export const UNBREAKABLE_FILE = join(BROKEN, "no-broken-image.json");
export const UNBREAKABLE_KINDS = ["engine-only", "official image only"] as const;

export interface Mutant {
  name: string;
  folder: string;
  official: string;
  steps: string[];
}

// A step no broken image here can fail, with the fact that says why: what the engine does whatever the image
// ("engine-only"), or what no stand-in has, so that the step runs only on the official image ("official image only").
export interface Unbreakable {
  title: string;
  kind: (typeof UNBREAKABLE_KINDS)[number];
  fact: string;
}

export class DeclarationError extends Error {}

async function mutantIn(name: string): Promise<Mutant> {
  const folder = join(BROKEN, name);
  const where = relative(ROOT, join(folder, DECLARATION));
  if (!existsSync(join(folder, DECLARATION))) {
    throw new DeclarationError(`${where} is missing: declare {"stands for": "<official ref>", "steps": [...]}`);
  }
  let declared: Record<string, unknown>;
  try {
    declared = JSON.parse(await readFile(join(folder, DECLARATION), "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new DeclarationError(`${where} is not JSON: ${(error as Error).message}`);
  }
  const unknown = Object.keys(declared).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0) throw new DeclarationError(`${where}: unknown key ${unknown.join(", ")}; keys: ${KEYS}`);
  const { "stands for": official, steps } = declared;
  if (typeof official !== "string") throw new DeclarationError(`${where}: "stands for" must be an official ref`);
  const isTitle = (step: unknown) => typeof step === "string" && step.trim() !== "";
  if (!Array.isArray(steps) || steps.length === 0 || !steps.every(isTitle) || new Set(steps).size !== steps.length) {
    throw new DeclarationError(`${where}: "steps" must list one or more distinct step titles`);
  }
  let entry;
  try {
    entry = catalogueEntry(official);
  } catch (error) {
    throw new DeclarationError(`${where}: ${(error as Error).message}`);
  }
  // The breakage must sit on the stand-in it claims to stand for, or the run would judge another image than declared.
  const from = (await readFile(join(folder, "Dockerfile"), "utf8")).match(/^FROM\s+(\S+)/m)?.[1];
  if (from !== entry.standIn) {
    throw new DeclarationError(
      `${where}: stands for ${official}, but its Dockerfile is FROM ${from}, not ${entry.standIn}`,
    );
  }
  return { name, folder, official: entry.official, steps: steps as string[] };
}

// The broken images named on the command line (all of them when none is named), each with what it claims to break.
export async function declaredMutants(wanted: string[]): Promise<Mutant[]> {
  const names = (await readdir(BROKEN, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  const unknown = wanted.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new DeclarationError(
      `no broken image ${unknown.join(", ")} under images/broken; there are ${names.join(", ")}`,
    );
  }
  return Promise.all(names.filter((name) => wanted.length === 0 || wanted.includes(name)).map(mutantIn));
}

// images/broken/no-broken-image.json: {"engine-only": {"<step>": "<fact>"}, "official image only": {…}}.
export async function declaredUnbreakables(): Promise<Unbreakable[]> {
  const where = relative(ROOT, UNBREAKABLE_FILE);
  let declared: Record<string, unknown>;
  try {
    declared = JSON.parse(await readFile(UNBREAKABLE_FILE, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new DeclarationError(`${where}: ${(error as Error).message}`);
  }
  const unknown = Object.keys(declared).filter((key) => !(UNBREAKABLE_KINDS as readonly string[]).includes(key));
  if (unknown.length > 0)
    throw new DeclarationError(`${where}: unknown key ${unknown.join(", ")}; keys: ${UNBREAKABLE_KINDS.join(", ")}`);
  return UNBREAKABLE_KINDS.flatMap((kind) => {
    const steps = declared[kind] ?? {};
    if (typeof steps !== "object" || steps === null || Array.isArray(steps))
      throw new DeclarationError(`${where}: "${kind}" must map step titles to the fact that says why`);
    return Object.entries(steps).map(([title, fact]) => {
      if (typeof fact !== "string" || fact.trim() === "" || title.trim() === "")
        throw new DeclarationError(`${where}: "${kind}" > "${title}" must name the fact that says why`);
      return { title, kind, fact };
    });
  });
}
