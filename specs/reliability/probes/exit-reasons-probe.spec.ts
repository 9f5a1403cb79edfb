// Run only by specs/reliability/exit-reasons.spec.ts (vitest project "probes"): a step that fails, a step that times
// out, and a step that passes but leaves a rejection no one handles.
import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";

it("fails on an assertion", () => {
  expect(1 + 1).toBe(3);
});

it("runs past its timeout", { timeout: 200 }, async () => {
  await sleep(1_000);
});

it("passes, leaving a rejection behind", async () => {
  void Promise.reject(new Error("probe: rejected outside any step"));
  await sleep(100);
});
