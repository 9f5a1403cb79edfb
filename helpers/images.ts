import { inject } from "vitest";
import { CATALOGUE, STAND_IN_LABELS, catalogueEntry } from "./catalogue.ts";
import { normalizeReference, parseReference } from "./reference.ts";

export type ImageSource = "official" | "local" | "auto";

export interface ResolvedImage {
  official: string;
  ref: string;
  id: string;
  standInFor?: string;
  lacks: string[];
}

const SOURCES: readonly ImageSource[] = ["official", "local", "auto"];

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

export function registryHostOf(ref: string): string {
  const { registry } = parseReference(ref);
  return registry === "docker.io" ? "registry-1.docker.io" : registry;
}

export interface Plan {
  official: string;
  ref: string;
  why: "official" | "stand-in" | "LABS_IMAGE_MAP";
}

export function planImages(
  source: ImageSource,
  map: Map<string, string>,
  registryAnswers: (host: string) => boolean,
): Plan[] {
  return CATALOGUE.map(({ official, standIn }) => {
    const mapped = map.get(normalizeReference(official));
    if (mapped) return { official, ref: mapped, why: "LABS_IMAGE_MAP" };
    const useOfficial = source === "official" || (source === "auto" && registryAnswers(registryHostOf(official)));
    return useOfficial ? { official, ref: official, why: "official" } : { official, ref: standIn, why: "stand-in" };
  });
}

export function standInFacts(labels: Record<string, string> | undefined): Pick<ResolvedImage, "standInFor" | "lacks"> {
  const standInFor = labels?.[STAND_IN_LABELS.for];
  const lacks = (labels?.[STAND_IN_LABELS.lacks] ?? "").split(",").filter(Boolean);
  return standInFor ? { standInFor, lacks } : { lacks: [] };
}

export function describeImage(image: ResolvedImage): string {
  const id = image.id.replace(/^sha256:/, "").slice(0, 12);
  const kind = image.standInFor
    ? `stand-in for ${image.standInFor}${image.lacks.length ? `, lacks ${image.lacks.join(", ")}` : ""}`
    : image.ref === image.official
      ? "official image"
      : "substitute named by LABS_IMAGE_MAP";
  return `${image.official} -> ${image.ref} (${id}) ${kind}`;
}

export const usedImages = new Set<ResolvedImage>();

export function labImage(official: string): ResolvedImage {
  const wanted = catalogueEntry(official).official;
  const image = inject("images").find((candidate) => candidate.official === wanted);
  if (!image) throw new Error(`${official} was not resolved by the global setup`);
  usedImages.add(image);
  return image;
}
