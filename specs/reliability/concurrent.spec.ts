import { describe, expect, it } from "vitest";
import { RUN_LINE } from "../../helpers/run/identity.ts";
import { engineLeftovers, startChild, vitestCommand } from "../../helpers/child-runs/child.ts";

const LABS = ["specs/lab-3-3-nginx.spec.ts", "specs/lab-3-2-2-containers.spec.ts", "specs/lab-3-1-mysql.spec.ts"];

describe("Two runs at once on one engine", { timeout: 240_000 }, () => {
  it("both pass; neither's sweep nor audit touches the other's containers", async () => {
    const runs = [startChild(vitestCommand("--project", "labs", ...LABS))];
    const first = (await runs[0]!.waitFor(RUN_LINE))[1]!;
    runs.push(startChild(vitestCommand("--project", "labs", ...LABS)));
    const second = (await runs[1]!.waitFor(RUN_LINE))[1]!;
    const codes = await Promise.all(runs.map(async (run) => (await run.exited).code));
    expect(codes, runs.map((run) => run.output().slice(-2000)).join("\n----\n")).toEqual([0, 0]);
    for (const [run, id, other] of [
      [runs[0]!, first, second],
      [runs[1]!, second, first],
    ] as const) {
      expect(run.output()).toContain(`teardown: nothing of run ${id} is left on the engine`);
      expect(run.output()).not.toMatch(new RegExp(`sweep: .*run ${other}`));
      expect(await engineLeftovers(id)).toEqual([]);
    }
  });
});
