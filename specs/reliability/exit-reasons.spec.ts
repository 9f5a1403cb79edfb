import { describe, expect, it } from "vitest";
import { engineLeftovers, startChild, vitestCommand } from "../../helpers/child-runs/child.ts";
import { RUN_LINE } from "../../helpers/run/identity.ts";

// A deliberately broken run of specs/reliability/probes/<probe>: its exit code, all it printed, its last lines.
async function probeRun(probe: string) {
  const config = ["--config", "specs/reliability/vitest.config.ts", "--project", "probes"];
  const child = startChild(vitestCommand(...config, `specs/reliability/probes/${probe}`), {
    env: { LABS_PROBES: "1" },
  });
  const { code } = await child.exited;
  return { code, output: child.output(), last: (n: number) => child.stderr().trimEnd().split("\n").slice(-n) };
}

describe("A run that exits non-zero says why in its last lines", { timeout: 60_000 }, () => {
  it("a failed step, a step that timed out, and an error outside any step with its stack", async () => {
    const { code, output, last } = await probeRun("exit-reasons-probe.spec.ts");
    expect(code, output.slice(-3000)).toBe(1);
    expect(last(3)).toEqual([
      expect.stringMatching(/^exit 1: step "fails on an assertion" failed: AssertionError: expected 2 to be 3/),
      expect.stringMatching(/^exit 1: step "runs past its timeout" timed out: TestTimeoutError: Test timed out in 200/),
      "exit 1: an error outside any step: Error: probe: rejected outside any step",
    ]);
    expect(last(20).join("\n")).toMatch(
      /Error: probe: rejected outside any step\n\s+at .*exit-reasons-probe\.spec\.ts:\d+/,
    );
  });

  it("the final audit: every step passed, a port published beyond loopback and a container left, now removed", async () => {
    const { code, output, last } = await probeRun("audit-probe.spec.ts");
    expect(code).toBe(1);
    expect(output).toMatch(/Tests {2}2 passed \(2\)/);
    expect(last(2)).toEqual([
      expect.stringMatching(
        /^exit 1: teardown: the run left 1 resource\(s\) behind \(now removed\): container \S+ \(\S+debian\S+, running\)$/,
      ),
      expect.stringMatching(
        /^exit 1: teardown: ports published beyond loopback: \S+ publishes 80\/tcp on 0\.0\.0\.0:\d+$/,
      ),
    ]);
    expect(await engineLeftovers(output.match(RUN_LINE)![1]!)).toEqual([]);
  });
});
