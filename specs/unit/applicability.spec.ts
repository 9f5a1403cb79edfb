import { describe, expect, it, type TestContext } from "vitest";
import type { ResolvedImage } from "../../helpers/catalogue/plan.ts";
import { NOT_APPLICABLE } from "../../helpers/vitest/run-results.ts";
import { notApplicableOn, notApplicableOnRunner, notApplicableWithout } from "../../helpers/lab/applicability.ts";

// What a step handed to vitest's skip, which ends the step, or nothing when the step goes on.
function skipped(decide: (skip: TestContext["skip"]) => void): string | undefined {
  let note: string | undefined;
  const skip = (reason?: string): never => {
    note = reason;
    throw new Error("skipped");
  };
  try {
    decide(skip as TestContext["skip"]);
  } catch (error) {
    if ((error as Error).message !== "skipped") throw error;
  }
  return note;
}

describe("the not-applicable rule", () => {
  it.each([
    "not applicable: image label labs.stand-in.lacks=web-ui (labs-stand-in/cadvisor:v0.46.0); Debian strips the UI",
    "not applicable: engine reports image store containerd (driver overlayfs); google/cadvisor#3643",
    "not applicable: engine reports remote endpoint tcp://10.0.0.7:2376; lsof sees the runner's sockets only",
    "not applicable: runner reports platform win32; the tool exists only on Linux",
  ])("accepts a named fact and its reason: %s", (line) => {
    expect(line).toMatch(NOT_APPLICABLE);
  });

  it.each([
    "not applicable: flaky here",
    "not applicable: engine reports remote endpoint tcp://10.0.0.7:2376",
    "not applicable: runner says platform win32; no reason to be found",
    "not applicable: user reports a slow laptop; skipped",
    "not applicable: image label labs.stand-in.lacks=web-ui; no image named",
    "skipped by LABS_SKIP_BROWSER=1: no Chromium found",
  ])("refuses a skip that names no image, engine or runner fact with its reason: %s", (line) => {
    expect(line).not.toMatch(NOT_APPLICABLE);
  });

  it("is what each helper writes, and only when the fact rules the step out", () => {
    const image = { ref: "labs-stand-in/cadvisor:v0.46.0", lacks: ["web-ui"] } as ResolvedImage;
    const notes = [
      skipped((skip) => notApplicableWithout(skip, image, "web-ui", "Debian strips the UI")),
      skipped((skip) => notApplicableOn(skip, true, "remote endpoint tcp://10.0.0.7:2376", "ports are that host's")),
      skipped((skip) => notApplicableOnRunner(skip, true, "platform aix", "no tool this suite knows there")),
    ];
    expect(notes).toEqual([
      "not applicable: image label labs.stand-in.lacks=web-ui (labs-stand-in/cadvisor:v0.46.0); Debian strips the UI",
      "not applicable: engine reports remote endpoint tcp://10.0.0.7:2376; ports are that host's",
      "not applicable: runner reports platform aix; no tool this suite knows there",
    ]);
    for (const note of notes) expect(note).toMatch(NOT_APPLICABLE);
    expect(skipped((skip) => notApplicableOn(skip, false, "local endpoint", "never"))).toBeUndefined();
    expect(skipped((skip) => notApplicableOnRunner(skip, false, "platform linux", "never"))).toBeUndefined();
    expect(skipped((skip) => notApplicableWithout(skip, image, "healthz", "never"))).toBeUndefined();
  });
});
