import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { onlySteps, type LabsRun, type Listed } from "../../helpers/child-runs/run-labs.ts";
import type { Step } from "../../helpers/vitest/run-results.ts";
import { coverage, coverageProblems } from "../../scripts/mutants/coverage.ts";
import { declaredUnbreakables, ROOT, type Mutant, type Unbreakable } from "../../scripts/mutants/declarations.ts";
import { stepsOfUnbreakables } from "../../scripts/mutants/declared-steps.ts";
import { expectedSeconds, verdictOf, whyNotGreen } from "../../scripts/mutants/verdicts.ts";
import { stepOf } from "./step-results.ts";

const LAB = "Lab 3.2.2: container commands";
const listed = (title: string, file = "specs/lab-3-2-2-containers.spec.ts"): Listed => ({
  file,
  fullName: `${LAB} > ${title}`,
});
const step = (title: string, state: Step["state"], extra: Partial<Step> = {}) =>
  stepOf({ lab: LAB, file: listed(title).file }, title, state, { ms: 1_000, ...extra });
const run = (steps: Step[]): LabsRun => ({
  result: {
    outcome: steps.some(({ state }) => state === "failed") ? "failed" : "passed",
    files: [],
    steps,
    errors: [],
  },
  exitCode: 0,
  output: "",
  launchedAt: 0,
  exitedAt: 1,
  seconds: 1,
});
const mutant = (...steps: string[]): Mutant => ({ name: "ubuntu-x", folder: "/x", official: "ubuntu:14.04", steps });
const assertion = { kind: "assertion", name: "AssertionError", message: "expected '' to match /[#$] $/" } as const;
const timeout = { kind: "timeout", name: "TestTimeoutError", message: "Test timed out in 60000ms." } as const;
const [I, IT, T] = [
  "docker run -i container-test1 bash",
  "docker run -it container-test1 bash",
  "docker run -t x (a|b)",
];

describe("broken images", () => {
  it("select exactly the declared steps with vitest's name filter, whatever their titles hold", () => {
    const titles = [
      I,
      IT,
      "docker image inspect httpd (and --format '{{.Os}}')",
      "docker run \\ > --x=/:/y \\ > $z?",
      T,
    ];
    const names = titles.map((title) => listed(title));
    const pattern = new RegExp(onlySteps(names.slice(0, 2)).replace(/^--testNamePattern=/, ""));
    expect(names.map(({ fullName }) => pattern.test(fullName))).toEqual([true, true, false, false, false]);
    const all = new RegExp(onlySteps(names).replace(/^--testNamePattern=/, ""));
    expect(names.every(({ fullName }) => all.test(fullName))).toBe(true);
    expect(all.test(`${LAB} > docker run -t x a`)).toBe(false);
  });

  it("are caught only when every step they declare failed on an assertion", () => {
    const both = mutant(I, IT);
    expect(
      verdictOf(both, run([step(I, "failed", { failure: assertion }), step(IT, "failed", { failure: assertion })])),
    ).toMatchObject({ caught: true, why: `caught by "${I}", "${IT}"` });
    expect(verdictOf(both, run([step(I, "failed", { failure: assertion }), step(IT, "passed")]))).toMatchObject({
      caught: false,
      why: `NOT CAUGHT: "${IT}" passed (caught by "${I}" only)`,
    });
    expect(verdictOf(mutant(I), run([step(I, "failed", { failure: timeout })])).why).toBe(
      `NOT CAUGHT: "${I}" failed only on a timeout (TestTimeoutError: Test timed out in 60000ms.)`,
    );
    expect(verdictOf(mutant(I), run([step(IT, "failed", { failure: assertion })])).why).toBe(
      `NOT CAUGHT: "${I}" did not run; caught only by steps it does not declare: "${IT}"`,
    );
  });

  it("need their steps green on the stand-ins, and the official-only ones not applicable there by a label", () => {
    expect(whyNotGreen(run([step(I, "passed")]), [mutant(I)])).toBeUndefined();
    expect(whyNotGreen(run([step(I, "skipped")]), [mutant(I)])).toMatch(/was skipped, so it cannot catch anything/);
    const lacks = "not applicable: image label labs.stand-in.lacks=web-ui (Debian strips it); no UI";
    const official = step(T, "not applicable", { note: lacks });
    expect(whyNotGreen(run([step(I, "passed"), official]), [mutant(I)], [official.fullName])).toBeUndefined();
    expect(whyNotGreen(run([step(I, "passed"), step(T, "passed")]), [mutant(I)], [official.fullName])).toMatch(
      /declared official image only, but on the stand-ins it was passed/,
    );
  });

  it("order their runs by what the baseline spent on each file beyond its steps, and on their own steps", () => {
    const file = "specs/lab-3-2-2-containers.spec.ts";
    const baseline = run([step(I, "passed"), step(IT, "passed", { ms: 4_000 })]).result;
    baseline.files = [
      { file, lab: LAB, images: [], ran: true, failures: [], times: { queuedAt: 0, startedAt: 0, endedAt: 15_000 } },
    ];
    expect(expectedSeconds(baseline, [listed(I)])).toBe(10 + 1);
    expect(expectedSeconds(baseline, [listed(I), listed(IT)])).toBe(10 + 5);
  });

  it("cover each step with a catching image or a line that says why none can, and never both", () => {
    const line: Unbreakable = { title: T, kind: "engine-only", fact: "the engine's" };
    const lines = stepsOfUnbreakables([line], [listed(I), listed(T)]);
    const caughtI = verdictOf(mutant(I), run([step(I, "failed", { failure: assertion })]));
    expect(coverageProblems(coverage([listed(I), listed(T)], [caughtI], lines))).toEqual([]);
    expect(coverageProblems(coverage([listed(I), listed(IT), listed(T)], [caughtI], lines))).toEqual([
      `"${LAB} > ${IT}" has no broken image that catches it and no line in images/broken/no-broken-image.json`,
    ]);
    const caughtT = verdictOf(mutant(T), run([step(T, "failed", { failure: assertion })]));
    expect(coverageProblems(coverage([listed(I), listed(T)], [caughtI, caughtT], lines))).toEqual([
      `"${LAB} > ${T}" is declared engine-only, yet ubuntu-x failed it: take its line out`,
    ]);
    expect(() => stepsOfUnbreakables([{ ...line, title: "docker run -q" }], [listed(I)])).toThrow(
      /no-broken-image.json > "engine-only": no lab step is titled "docker run -q"/,
    );
  });

  it("say in no-broken-image.json, for each step they cannot fail, the fact that says why", async () => {
    const lines = await declaredUnbreakables();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter(({ fact }) => fact.length < 40)).toEqual([]);
  });

  it("are each named in the README's table, with what is broken", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const folders = await readdir(join(ROOT, "images", "broken"), { withFileTypes: true });
    const names = folders.filter((entry) => entry.isDirectory()).map(({ name }) => name);
    expect(names.filter((name) => !readme.includes(`| \`${name}\``))).toEqual([]);
  });
});
