import { describe, expect, it } from "vitest";
import type { Engine } from "../../helpers/engine/facts.ts";
import type { MatrixStep } from "../../helpers/vitest/matrix-reporter.ts";
import { matrixMarkdown, problemsOf, type EngineRun } from "../../scripts/engines/table.ts";

const engine = { product: "Docker", version: "28.5.2", imageStore: "containerd", driver: "overlayfs" } as Engine;
const step = (state: MatrixStep["state"], extra: Partial<MatrixStep> = {}): MatrixStep => ({
  lab: "lab-3-3-nginx",
  title: "docker stop webserver1",
  state,
  observed: [],
  ...extra,
});
const run = (steps: MatrixStep[], exitCode = 0, output = ""): EngineRun => ({
  name: "docker28-containerd",
  run: { engine, steps, errors: [], exitCode, output, seconds: 1 },
  timings: [["labs", 1]],
});
const RULED_OUT = "not applicable: engine reports image store containerd (driver overlayfs); cAdvisor issue 3643";

describe("engine matrix", () => {
  it("is green when every step passed or was ruled out by a fact the engine or image reports", () => {
    expect(problemsOf(run([step("passed"), step("not applicable", { note: RULED_OUT })]))).toEqual([]);
  });

  it.each([
    ["a failed step", [step("failed", { failure: "AssertionError: expected 1 to be 2" })], /failed: AssertionError/],
    ["a skip with no reason", [step("not applicable")], /skipped against the rule: \(no reason\)/],
    ["a skip for a reason that is no fact", [step("not applicable", { note: "flaky here" })], /against the rule/],
  ])("is red for %s", (_, steps, problem) => {
    expect(problemsOf(run(steps))).toEqual([expect.stringMatching(problem)]);
  });

  it("is red when the labs stopped before any step, with the setup's last line", () => {
    const problems = problemsOf(run([], 1, "images: pulling x\nCould not pull x: no matching manifest\n"));
    expect(problems).toEqual([expect.stringMatching(/before any step: Could not pull x/)]);
  });

  it("is red for an engine that never ran the labs", () => {
    expect(problemsOf({ name: "docker28", error: "did not start", timings: [] })).toEqual(["docker28: did not start"]);
  });

  it("counts per lab and engine, and lists each not-applicable step with its reason", () => {
    const table = matrixMarkdown([run([step("passed"), step("not applicable", { note: RULED_OUT })])]);
    expect(table).toContain("| docker28-containerd: Docker 28.5.2, containerd store (overlayfs) |");
    expect(table).toContain("| lab-3-3-nginx | 1 passed, 1 not applicable |");
    expect(table).toContain(`- docker28-containerd, lab-3-3-nginx, \`docker stop webserver1\`: ${RULED_OUT}`);
  });
});
