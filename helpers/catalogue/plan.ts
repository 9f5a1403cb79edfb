import { CATALOGUE, catalogueEntry, STAND_IN_LABELS, type StandIn } from "./entries.ts";
import { normalizeReference, parseReference } from "./reference.ts";
import type { ImageSource } from "./settings.ts";

export interface ResolvedImage {
  official: string;
  ref: string;
  id: string;
  // The registry's digest of what was pulled (the RepoDigest under the reference run); none for a local build.
  digest?: string;
  standInFor?: string;
  // The stand-in's own OS (its labs.stand-in.os label), e.g. Debian where it stands for Ubuntu.
  standInOs?: string;
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

export function standInFacts(
  labels: Record<string, string> | undefined,
): Pick<ResolvedImage, "standInFor" | "standInOs" | "lacks"> {
  const standInFor = labels?.[STAND_IN_LABELS.for];
  const standInOs = labels?.[STAND_IN_LABELS.os];
  const lacks = (labels?.[STAND_IN_LABELS.lacks] ?? "").split(",").filter(Boolean);
  return standInFor ? { standInFor, ...(standInOs ? { standInOs } : {}), lacks } : { lacks: [] };
}

// The OS a step must find in the image's /etc/os-release, and who said so: the catalogue for the official image, the
// stand-in's own label for a stand-in; never the /etc/os-release under test.
export function expectedOs(image: ResolvedImage): { name: string; declaredBy: string } {
  if (image.standInFor) {
    if (image.standInOs) return { name: image.standInOs, declaredBy: `${image.ref}'s ${STAND_IN_LABELS.os} label` };
    throw new Error(
      `${image.ref} stands for ${image.standInFor} but has no ${STAND_IN_LABELS.os} label to say what OS it is: ` +
        `rebuild it (npm run images:build ${catalogueEntry(image.official).recipe})`,
    );
  }
  const { officialOs } = catalogueEntry(image.official);
  if (officialOs) return { name: officialOs, declaredBy: `the catalogue, for the official ${image.official}` };
  throw new Error(`the catalogue names no OS for ${image.official} (officialOs in helpers/catalogue/entries.ts)`);
}

export function describeImage(image: ResolvedImage): string {
  const id = image.id.replace(/^sha256:/, "").slice(0, 12);
  const kind = image.standInFor
    ? `stand-in for ${image.standInFor}${image.standInOs ? `, really ${image.standInOs}` : ""}` +
      `${image.lacks.length ? `, lacks ${image.lacks.join(", ")}` : ""}`
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
