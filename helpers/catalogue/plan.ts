import { CATALOGUE, STAND_IN_LABELS, type StandIn } from "./entries.ts";
import { normalizeReference, parseReference } from "./reference.ts";
import type { ImageSource } from "./settings.ts";

export interface ResolvedImage {
  official: string;
  ref: string;
  id: string;
  // The registry's digest of what was pulled (the RepoDigest under the reference run); none for a local build.
  digest?: string;
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
  return `${image.official} -> ${image.ref} (${id}${image.digest ? `, digest ${image.digest}` : ""}) ${kind}`;
}

// The RepoDigest an engine recorded for `ref`'s repository: an image pushed elsewhere too has others.
export function digestFor(ref: string, repoDigests: readonly string[] | undefined): string | undefined {
  const { registry, repository } = parseReference(ref);
  const own = (repoDigests ?? [])
    .map((named) => parseReference(named))
    .find((named) => named.registry === registry && named.repository === repository);
  return own?.digest;
}

// LABS_IMAGES=auto's one line on why it runs stand-ins: images that failed alike are named together.
export function autoFallbackLine(unavailable: ReadonlyMap<string, string>): string | undefined {
  if (unavailable.size === 0) return undefined;
  const byReason = new Map<string, string[]>();
  for (const [official, reason] of unavailable) byReason.set(reason, [...(byReason.get(reason) ?? []), official]);
  const why = [...byReason].map(([reason, officials]) => `${officials.join(", ")} (${reason})`).join("; ");
  return `images: auto runs stand-ins, as the engine cannot pull ${why}`;
}
