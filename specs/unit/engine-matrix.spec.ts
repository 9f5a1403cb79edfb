import { describe, expect, it } from "vitest";
import type { Step } from "../../helpers/vitest/run-results.ts";
import type { Engine } from "../../helpers/engine/facts.ts";
import { matrixMarkdown, problemsOf, type EngineRun } from "../../scripts/engines/table.ts";
import { stepOf } from "./step-results.ts";

const engine = {
  product: "Docker",
  version: "28.5.2",
  imageStore: "containerd",
  driver: "overlayfs",
  minApiVersion: "1.24",
} as Engine;
const NGINX = { lab: "Lab 3-3: nginx web server", file: "specs/lab-3-3-nginx.spec.ts" };
const step = (state: Step["state"], extra: Partial<Step> = {}) => stepOf(NGINX, "docker stop webserver1", state, extra);
const run = (steps: Step[], exitCode = 0, output = ""): EngineRun => ({
  name: "docker28-containerd",
  run: { result: { engine, outcome: "passed", files: [], steps, errors: [] }, exitCode, output },
  timings: [["labs", 1]],
});
const RULED_OUT = "not applicable: engine reports image store containerd (driver overlayfs); cAdvisor issue 3643";
const assertion = { kind: "assertion", name: "AssertionError", message: "expected 1 to be 2" } as const;

describe("engine matrix", () => {
  it("is green when every step passed or was ruled out by a fact the engine or image reports", () => {
    expect(problemsOf(run([step("passed"), step("not applicable", { note: RULED_OUT })]))).toEqual([]);
  });

  it.each([
    ["a failed step", [step("failed", { failure: assertion })], /failed: AssertionError: expected 1 to be 2/],
    ["a skip with no reason", [step("skipped")], /was skipped: \(no reason\)/],
    ["a user's skip", [step("skipped", { note: "skipped: LABS_SKIP_BROWSER=1" })], /skipped: LABS_SKIP_BROWSER/],
    [
      "a not-applicable skip for a reason that is no fact",
      [step("skipped", { note: "not applicable: flaky here" })],
      /not applicable without a named image label or engine fact/,
    ],
    ["a step not run", [step("not run", { note: "not run: the engine went away" })], /1 step\(s\) not run/],
  ])("is red for %s", (_, steps, problem) => {
    expect(problemsOf(run(steps))).toEqual([expect.stringMatching(problem)]);
  });

  it("is red when the labs stopped before any step, with the setup's last line", () => {
    const problems = problemsOf(run([], 1, "images: pulling x\nCould not pull x: no matching manifest\n"));
    expect(problems).toEqual([expect.stringMatching(/before any step: Could not pull x/)]);
  });

  it("is red when the run exited non-zero with every step green, with its last line", () => {
    const problems = problemsOf(run([step("passed")], 1, "3 passed\nexit 1: teardown: the run left 1 resource(s)\n"));
    expect(problems).toEqual([expect.stringMatching(/every step green: exit 1: teardown: the run left/)]);
  });

  it("is red for an engine that never ran the labs", () => {
    expect(problemsOf({ name: "docker28", error: "did not start", timings: [] })).toEqual(["docker28: did not start"]);
  });

  it("counts per lab and engine, and lists each not-applicable step with its reason", () => {
    const table = matrixMarkdown([run([step("passed"), step("not applicable", { note: RULED_OUT })])]);
    expect(table).toContain("| docker28-containerd: Docker 28.5.2, containerd store (overlayfs), API ≥ 1.24 |");
    expect(table).toContain("| lab-3-3-nginx | 1 passed, 1 not applicable |");
    expect(table).toContain(`- docker28-containerd, lab-3-3-nginx, \`docker stop webserver1\`: ${RULED_OUT}`);
  });
});
