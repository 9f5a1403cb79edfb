import { describe, expect, it } from "vitest";
import { engineLeftovers, startChild, vitestCommand } from "../../helpers/child-runs/child.ts";
import { RUN_LINE } from "../../helpers/run/identity.ts";

describe("The run's final audit", { timeout: 60_000 }, () => {
  it("fails a run that published beyond loopback or left a container, and removes what it left", async () => {
    const child = startChild(vitestCommand("--config", "specs/reliability/vitest.config.ts", "--project", "probes"), {
      env: { LABS_PROBES: "1" },
    });
    const { code } = await child.exited;
    const runId = child.output().match(RUN_LINE)![1]!;
    expect(code).toBe(1);
    expect(child.output()).toMatch(/ports published beyond loopback: \S+ publishes 80\/tcp on 0\.0\.0\.0:\d+/);
    expect(child.output()).toMatch(
      /the run left 1 resource\(s\) behind \(now removed\): container \S+ \(\S+debian\S+, running\)/,
    );
    expect(await engineLeftovers(runId)).toEqual([]);
  });
});
