import { describe, expect, it } from "vitest";
import type { Step } from "../../helpers/vitest/run-results.ts";
import { onlyStep } from "../../helpers/child-runs/run-labs.ts";
import { aloneVerdict } from "../../scripts/steps-alone/judge.ts";
import { stepOf } from "./step-results.ts";

const LAB = "Lab 3-3: nginx web server";
const FILE = "specs/lab-3-3-nginx.spec.ts";
const step = (title: string, state: Step["state"], extra: Partial<Step> = {}) =>
  stepOf({ lab: LAB, file: FILE }, title, state, extra);
const STOP = { file: FILE, fullName: `${LAB} > docker stop webserver1` };
const run = (steps: Step[], exitCode = 0, output = "") => ({
  result: { outcome: "passed" as const, files: [], steps, errors: [] },
  exitCode,
  output,
  seconds: 2,
});
const alone = (...steps: Step[]) => run([step("curl -i http://localhost:8001/", "skipped"), ...steps]);
const RULED_OUT = "not applicable: engine reports image store containerd (driver overlayfs); cAdvisor issue 3643";

describe("one step alone", () => {
  it.each([
    "The notes as printed > docker pull httpd(:latest)",
    "The notes as printed > docker image tag httpd:latest [본인 아이디]/httpd:3.0",
    "The notes as printed > docker exec -it {container ID} bash",
    "The notes as printed > docker run \\ > --volume=/:/rootfs:ro \\ > --publish=9559:8080 \\ > gcr.io/cadvisor:v0.46.0",
    "Lab 3-1: MySQL 5.7 > docker inspect some-mysql | grep IPAddress",
    "Lab 3-2: cAdvisor > open http://localhost:9559/ (redirects to /containers/, then /docker)",
    "Lab 3.2.1: image commands > docker image inspect httpd (and --format '{{.Os}}')",
    "Lab 3.2.2: container commands > docker ps / docker ps -a",
    "Lab 3-2: cAdvisor > docker run -d --name workload nginx:1.18, then find it in /api/v1.3/docker and /metrics",
  ])("selects %s by its full name and nothing longer, shorter or alike", (fullName) => {
    const pattern = new RegExp(onlyStep(fullName));
    expect(pattern.test(fullName)).toBe(true);
    // An unescaped "." would take any character; an unanchored pattern, a longer name.
    const others = [`${fullName} again`, `Another > ${fullName}`, fullName.slice(0, -1), fullName.replace(".", "x")];
    expect(others.filter((other) => other !== fullName && pattern.test(other))).toEqual([]);
  });

  it("is green when the step passed and the filter left out every other step of its file", () => {
    expect(aloneVerdict(STOP, alone(step("docker stop webserver1", "passed")))).toEqual({
      step: STOP,
      title: "docker stop webserver1",
      state: "passed",
      seconds: 2,
    });
  });

  it("is green when the step is not applicable by the rule", () => {
    const verdict = aloneVerdict(STOP, alone(step("docker stop webserver1", "not applicable", { note: RULED_OUT })));
    expect(verdict.problem).toBeUndefined();
  });

  it.each([
    [
      "a failed step, with its first line",
      alone(
        step("docker stop webserver1", "failed", {
          failure: { kind: "assertion", name: "AssertionError", message: "expected 137 to be +0\n- Expected" },
        }),
      ),
      "AssertionError: expected 137 to be +0",
    ],
    [
      "a step that timed out",
      alone(
        step("docker stop webserver1", "failed", {
          failure: { kind: "timeout", name: "TestTimeoutError", message: "Test timed out in 60000ms." },
        }),
      ),
      "timed out: TestTimeoutError: Test timed out in 60000ms.",
    ],
    [
      "a user's skip",
      alone(step("docker stop webserver1", "skipped", { note: "skipped: LABS_SKIP_BROWSER=1" })),
      "LABS_SKIP_BROWSER=1",
    ],
    [
      "a step the run never got to",
      alone(step("docker stop webserver1", "not run", { note: "not run: the engine went away" })),
      "the engine went away",
    ],
    ["a step the filter missed", alone(step("docker stop webserver1", "skipped")), "the filter did not select it"],
    [
      "a step missing from the run",
      alone(step("docker stop webserver2", "passed")),
      "the run did not report the step (it reported 2 others)",
    ],
    [
      "a run that stopped before any step, with its last line",
      run([], 1, "engine: starting\nno engine answers at unix:///var/run/docker.sock: start Docker\n"),
      "the labs stopped before any step: no engine answers at unix:///var/run/docker.sock: start Docker",
    ],
    [
      "another step that ran as well",
      run([step("curl -i http://localhost:8001/", "passed"), step("docker stop webserver1", "passed")]),
      `the filter let other steps in too: "${LAB} > curl -i http://localhost:8001/" (passed)`,
    ],
    [
      "a step of another file",
      alone(step("docker stop webserver1", "passed"), step("x", "skipped", { file: "specs/lab-3-1-mysql.spec.ts" })),
      `the filter let other steps in too: "${LAB} > x" (skipped)`,
    ],
    [
      "a run that exited 1 with the step green, with its last line",
      {
        ...alone(step("docker stop webserver1", "passed")),
        exitCode: 1,
        output: "teardown: the run left 1 container\n",
      },
      "the run exited 1: teardown: the run left 1 container",
    ],
  ])("is red for %s", (_, labs, problem) => {
    expect(aloneVerdict(STOP, labs).problem).toBe(problem);
  });
});
