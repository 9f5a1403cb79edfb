import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imagesOfSpecFiles } from "../../helpers/catalogue/selection.ts";
import { dockerApi } from "../../helpers/engine/client.ts";
import { RUN_LINE } from "../../helpers/run/identity.ts";
import { engineLeftovers, guardianPid, startChild, vitestCommand } from "../../helpers/child-runs/child.ts";
import { copyImages, startPrivateEngine, type PrivateEngine } from "../../helpers/private-engines/lifecycle.ts";

const LABS = ["specs/lab-3-2-2-containers.spec.ts", "specs/lab-3-3-nginx.spec.ts"];
// The stand-ins those labs name, as the run's own setup finds them: a list written here went stale when a lab got an image.
const IMAGES = imagesOfSpecFiles(LABS).map(({ standIn }) => standIn);
const GUARDIAN_GIVES_UP_MS = 5_000;

// Runs the labs on the spec's own engine and takes that engine away once the first step has passed, for `downForMs`
// or, with none, until the run and its guardian have both ended.
async function runLosingTheEngine(
  engine: PrivateEngine,
  downForMs?: number,
  guardianGivesUpMs?: number,
  signal?: NodeJS.Signals,
) {
  const env = {
    DOCKER_HOST: engine.host,
    LABS_IMAGES: "local",
    ...(guardianGivesUpMs ? { LABS_GUARDIAN_GIVE_UP_MS: String(guardianGivesUpMs) } : {}),
  };
  const child = startChild(vitestCommand("--project", "labs", ...LABS), { env });
  const runId = (await child.waitFor(RUN_LINE))[1]!;
  await child.waitFor(/✓ .*Lab 3\.2\.2: container commands > /);
  const back = engine.interrupt(
    downForMs ??
      (async () => {
        await child.exited;
        await expect.poll(() => guardianPid(runId), { timeout: 30_000 }).toBe(0);
        await sleep(1_000);
      }),
    signal,
  );
  const { code } = await child.exited;
  return { child, runId, code, back };
}

describe("An engine that goes away mid-run", { timeout: 300_000 }, () => {
  let engine: PrivateEngine;
  beforeAll(async () => {
    engine = await startPrivateEngine({ name: `restart-${process.pid}`, engine: "docker20", quiet: true });
    await copyImages(await dockerApi(), engine.docker, IMAGES);
  });
  afterAll(() => engine?.stop());

  it("comes back quickly: one line names the engine and the step, no stack per step, the guardian cleans up", async () => {
    const { child, runId, code, back } = await runLosingTheEngine(engine, 2_000);
    await back;
    expect(code).toBe(1);
    const lost = child.output().match(/^engine: lost .*$/gm) ?? [];
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatch(new RegExp(`^engine: lost ${engine.host} .* during .+ > .+; stopping the labs`));
    expect(child.output().match(/connect (ENOENT|ECONNREFUSED)/g)?.length ?? 0).toBeLessThanOrEqual(4);
    expect(child.output()).not.toContain("error during close");
    await expect.poll(() => engineLeftovers(runId, engine.host), { timeout: 60_000, interval: 1_000 }).toEqual([]);
  });

  it("crashes and comes back after the guardian gave up: the next run's sweep removes what the run left", async () => {
    const { child, runId, code, back } = await runLosingTheEngine(engine, undefined, GUARDIAN_GIVES_UP_MS, "SIGKILL");
    expect(code).toBe(1);
    await back;
    expect(await engineLeftovers(runId, engine.host), child.output().slice(-3000)).not.toEqual([]);
    const next = startChild(vitestCommand("--project", "labs", "specs/lab-3-3-nginx.spec.ts"), {
      env: { DOCKER_HOST: engine.host, LABS_IMAGES: "local" },
    });
    expect((await next.exited).code, next.output().slice(-2000)).toBe(0);
    expect(next.output()).toContain(`sweep: removed what ended runs left behind: run ${runId}:`);
    expect(await engineLeftovers(runId, engine.host)).toEqual([]);
  });
});
