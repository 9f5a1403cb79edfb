import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { catalogueEntry } from "../../helpers/catalogue/entries.ts";

export const ROOT = join(import.meta.dirname, "..", "..");
const BROKEN = join(ROOT, "images", "broken");
export const UNBREAKABLE_FILE = join(BROKEN, "no-broken-image.json");
const UNBREAKABLE_KINDS = ["engine-only", "official image only"] as const;

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

// A declaration file's JSON object, holding no key but `keys`; `form` says what it should look like.
async function declaration(file: string, keys: readonly string[], form: string): Promise<Record<string, unknown>> {
  const where = relative(ROOT, file);
  const text = await readFile(file, "utf8").catch(() => {
    throw new Error(`${where} is missing: declare ${form}`);
  });
  let declared: Record<string, unknown>;
  try {
    declared = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${where} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const unknown = Object.keys(declared).filter((key) => !keys.includes(key));
  if (unknown.length > 0) throw new Error(`${where}: unknown key ${unknown.join(", ")}; keys: ${keys.join(", ")}`);
  return declared;
}

async function mutantIn(name: string): Promise<Mutant> {
  const folder = join(BROKEN, name);
  const file = join(folder, "catches.json");
  const where = relative(ROOT, file);
  const declared = await declaration(file, ["stands for", "steps"], `{"stands for": "<official ref>", "steps": [...]}`);
  const { "stands for": official, steps } = declared;
  if (typeof official !== "string") throw new Error(`${where}: "stands for" must be an official ref`);
  const isTitle = (step: unknown) => typeof step === "string" && step.trim() !== "";
  if (!Array.isArray(steps) || steps.length === 0 || !steps.every(isTitle) || new Set(steps).size !== steps.length) {
    throw new Error(`${where}: "steps" must list one or more distinct step titles`);
  }
  let entry;
  try {
    entry = catalogueEntry(official);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
  // The breakage must sit on the stand-in it claims to stand for, or the run would judge another image than declared.
  const from = (await readFile(join(folder, "Dockerfile"), "utf8")).match(/^FROM\s+(\S+)/m)?.[1];
  if (from !== entry.standIn) {
    throw new Error(`${where}: stands for ${official}, but its Dockerfile is FROM ${from}, not ${entry.standIn}`);
  }
  return { name, folder, official: entry.official, steps: steps as string[] };
}

// The broken images named on the command line (all of them when none is named), each with what it claims to break.
export async function declaredMutants(wanted: string[]): Promise<Mutant[]> {
  const names = (await readdir(BROKEN, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  const unknown = wanted.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new Error(`no broken image ${unknown.join(", ")} under images/broken; there are ${names.join(", ")}`);
  }
  return Promise.all(names.filter((name) => wanted.length === 0 || wanted.includes(name)).map(mutantIn));
}

export async function declaredUnbreakables(): Promise<Unbreakable[]> {
  const where = relative(ROOT, UNBREAKABLE_FILE);
  const declared = await declaration(
    UNBREAKABLE_FILE,
    UNBREAKABLE_KINDS,
    `{"engine-only": {"<step>": "<fact>"}, "official image only": {…}}`,
  );
  return UNBREAKABLE_KINDS.flatMap((kind) => {
    const steps = declared[kind] ?? {};
    if (typeof steps !== "object" || steps === null || Array.isArray(steps))
      throw new Error(`${where}: "${kind}" must map step titles to the fact that says why`);
    return Object.entries(steps).map(([title, fact]) => {
      if (typeof fact !== "string" || fact.trim() === "" || title.trim() === "")
        throw new Error(`${where}: "${kind}" > "${title}" must name the fact that says why`);
      return { title, kind, fact };
    });
  });
}
