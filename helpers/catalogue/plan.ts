import { CATALOGUE, STAND_IN_LABELS, type StandIn } from "./entries.ts";
import { normalizeReference, parseReference } from "./reference.ts";
import type { ImageSource } from "./settings.ts";

export interface ResolvedImage {
  official: string;
  ref: string;
  id: string;
  standInFor?: string;
  lacks: string[];
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
  engineCanPull: (official: string) => boolean,
  entries: readonly StandIn[] = CATALOGUE,
): Plan[] {
  return entries.map(({ official, standIn }) => {
    const mapped = map.get(normalizeReference(official));
    if (mapped) return { official, ref: mapped, why: "LABS_IMAGE_MAP" };
    const useOfficial = source === "official" || (source === "auto" && engineCanPull(official));
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
