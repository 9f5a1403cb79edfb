import { catalogueEntry } from "./entries.ts";
import { normalizeReference, parseReference } from "./reference.ts";

const SOURCES = ["official", "local", "auto"] as const;
export type ImageSource = (typeof SOURCES)[number];

export function imageSourceFrom(env: NodeJS.ProcessEnv = process.env): ImageSource {
  const value = env.LABS_IMAGES ?? "auto";
  if (!(SOURCES as readonly string[]).includes(value)) {
    throw new Error(`LABS_IMAGES=${value} is not an image source: use official, local or auto`);
  }
  return value as ImageSource;
}

export function imageMapFrom(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const raw = env.LABS_IMAGE_MAP;
  if (raw === undefined || raw.trim() === "") return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`LABS_IMAGE_MAP is not JSON: give an object such as {"nginx:1.18": "my-mirror/nginx:1.18"}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`LABS_IMAGE_MAP must be a JSON object of "<official ref>": "<ref to run>"`);
  }
  const map = new Map<string, string>();
  for (const [official, target] of Object.entries(parsed)) {
    if (typeof target !== "string" || target.trim() === "") {
      throw new Error(`LABS_IMAGE_MAP["${official}"] must be an image reference string`);
    }
    parseReference(target);
    map.set(normalizeReference(catalogueEntry(official).official), target);
  }
  return map;
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/;

// The book pulls mysql:5.7 with --platform linux/amd64; LABS_PLATFORM changes it, e.g. to prove a wrong one fails.
export function labPlatform(env: NodeJS.ProcessEnv = process.env): string {
  const platform = env.LABS_PLATFORM ?? "linux/amd64";
  if (!PLATFORM.test(platform)) throw new Error(`LABS_PLATFORM=${platform} is not an os/arch[/variant] platform`);
  return platform;
}
