import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { engineLeftovers, guardianPid, startChild, vitestCommand } from "../../helpers/child-runs/child.ts";
import { RUN_LINE } from "../../helpers/run/identity.ts";
import { STAND_IN_LABELS } from "../../helpers/catalogue/entries.ts";
import { dockerApi } from "../../helpers/engine/client.ts";

const CLEAN_WITHIN_MS = 15_000;

async function expectCleanWithin(runId: string, signalledAt: number) {
  await expect
    .poll(() => engineLeftovers(runId), { timeout: CLEAN_WITHIN_MS - (Date.now() - signalledAt), interval: 250 })
    .toEqual([]);
  expect(Date.now() - signalledAt).toBeLessThan(CLEAN_WITHIN_MS);
}

async function runWithAContainer(spec: string) {
  const child = startChild(vitestCommand("--project", "labs", spec));
  const runId = (await child.waitFor(RUN_LINE))[1]!;
  await expect
    .poll(async () => (await engineLeftovers(runId)).some((thing) => thing.startsWith("container")), {
      timeout: 30_000,
    })
    .toBe(true);
  return { child, runId };
}

describe("Interrupting a run at any moment leaves nothing behind", { timeout: 180_000 }, () => {
  it("Ctrl-C during the stand-in build (npm run images:build)", async () => {
    const docker = await dockerApi();
    const before = await docker.getImage("labs-stand-in/python:3.9").inspect();
    const scratchBefore = readdirSync(tmpdir()).filter((name) => name.startsWith("labs-rootfs-"));
    const build = startChild(["scripts/build-stand-ins.ts", "--force", "python"]);
    await build.waitFor(/\[python\] Step \d+\/\d+ : RUN/);
    await build.waitFor(/\[python\] .*Running in [0-9a-f]{12}/);
    const signalledAt = Date.now();
    process.kill(-build.pid, "SIGINT");
    expect((await build.exited).code).not.toBe(0);
    // The legacy builder labels neither its step containers nor its step images: the build's own output names them.
    const named = (pattern: RegExp) => [...build.output().matchAll(pattern)].map((match) => match[1]!);
    const stepContainers = named(/Running in ([0-9a-f]{12})/g);
    const stepImages = named(/---> ([0-9a-f]{12})/g).filter((id) => !before.Id.includes(id));
    const stillThere = async () => {
      const containers = await docker.listContainers({ all: true });
      const images = await docker.listImages({ all: true, filters: JSON.stringify({ label: [STAND_IN_LABELS.for] }) });
      return [
        ...containers
          .filter(({ Id }) => stepContainers.some((id) => Id.startsWith(id)))
          .map(({ Id }) => `container ${Id}`),
        ...images.filter(({ Id }) => stepImages.some((id) => Id.includes(id))).map(({ Id }) => `image ${Id}`),
      ];
    };
    expect(stepContainers.length).toBeGreaterThan(0);
    await expect.poll(stillThere, { timeout: CLEAN_WITHIN_MS }).toEqual([]);
    expect(Date.now() - signalledAt).toBeLessThan(CLEAN_WITHIN_MS);
    const after = await docker.getImage("labs-stand-in/python:3.9").inspect();
    expect(after.Id).toBe(before.Id);
    expect(after.Config.Labels?.[STAND_IN_LABELS.recipe]).toBe(before.Config.Labels?.[STAND_IN_LABELS.recipe]);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith("labs-rootfs-"))).toEqual(scratchBefore);
  });

  it("Ctrl-C while a container starts (Lab 3-1, MySQL initialising)", async () => {
    const { child, runId } = await runWithAContainer("specs/lab-3-1-mysql.spec.ts");
    const signalledAt = Date.now();
    process.kill(-child.pid, "SIGINT");
    await child.exited;
    await expectCleanWithin(runId, signalledAt);
  });

  it("SIGTERM to the runner in the middle of a spec (Lab 3.2.1 after its first step)", async () => {
    const child = startChild(vitestCommand("--project", "labs", "specs/lab-3-2-1-images.spec.ts"));
    const runId = (await child.waitFor(RUN_LINE))[1]!;
    await child.waitFor(/✓ .*Lab 3\.2\.1: image commands > docker pull debian/);
    const signalledAt = Date.now();
    process.kill(child.pid, "SIGTERM");
    await child.exited;
    await expectCleanWithin(runId, signalledAt);
  });

  it("SIGKILL of the whole run, guardian included: the next run sweeps it before its first lab", async () => {
    const { child, runId } = await runWithAContainer("specs/lab-3-1-mysql.spec.ts");
    const guardian = await guardianPid(runId);
    expect(guardian).toBeGreaterThan(0);
    process.kill(guardian, "SIGKILL");
    process.kill(-child.pid, "SIGKILL");
    await child.exited;
    expect(await engineLeftovers(runId)).not.toEqual([]);

    const next = startChild(vitestCommand("--project", "labs", "specs/lab-3-3-nginx.spec.ts"));
    await next.waitFor(RUN_LINE);
    expect(await engineLeftovers(runId)).toEqual([]);
    expect(next.output()).toContain(`sweep: removed what ended runs left behind: run ${runId}:`);
    expect((await next.exited).code).toBe(0);
  });
});
