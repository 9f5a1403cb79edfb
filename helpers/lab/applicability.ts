import type { TestContext } from "vitest";
import type { ResolvedImage } from "../catalogue/plan.ts";

// The only three ways a step is "not applicable": a fact the image, the engine or the runner reports, named with the
// upstream reason in one line, as the rule NOT_APPLICABLE in helpers/vitest/run-results.ts reads it.
export function notApplicableWithout(skip: TestContext["skip"], image: ResolvedImage, feature: string, reason: string) {
  if (image.lacks.includes(feature)) {
    skip(`not applicable: image label labs.stand-in.lacks=${feature} (${image.ref}); ${reason}`);
  }
}

// `engineFact` is what the engine said, e.g. "image store containerd (driver overlayfs)".
export function notApplicableOn(skip: TestContext["skip"], ruledOut: boolean, engineFact: string, reason: string) {
  if (ruledOut) skip(`not applicable: engine reports ${engineFact}; ${reason}`);
}

// `runnerFact` is what the runner's own system said, e.g. "platform win32".
export function notApplicableOnRunner(
  skip: TestContext["skip"],
  ruledOut: boolean,
  runnerFact: string,
  reason: string,
) {
  if (ruledOut) skip(`not applicable: runner reports ${runnerFact}; ${reason}`);
}
