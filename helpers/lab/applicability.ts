import type { TestContext } from "vitest";
import type { ResolvedImage } from "../catalogue/plan.ts";

// The one rule for "not applicable": a step is ruled out only by a fact the image or the engine reports, and the
// skip names that fact and the upstream reason in one line. scripts/check-report.ts accepts nothing else.
export const NOT_APPLICABLE =
  /^not applicable: (image label labs\.stand-in\.lacks=[\w-]+ \([^)]+\)|engine reports [^;]+); \S.*$/;

export function notApplicableWithout(skip: TestContext["skip"], image: ResolvedImage, feature: string, reason: string) {
  if (image.lacks.includes(feature)) {
    skip(`not applicable: image label labs.stand-in.lacks=${feature} (${image.ref}); ${reason}`);
  }
}

// `engineFact` is what the engine said, e.g. "image store containerd (driver overlayfs)".
export function notApplicableOn(skip: TestContext["skip"], ruledOut: boolean, engineFact: string, reason: string) {
  if (ruledOut) skip(`not applicable: engine reports ${engineFact}; ${reason}`);
}
