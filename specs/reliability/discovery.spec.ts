import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerApi } from "../../helpers/engine/client.ts";
import { RUN_LINE } from "../../helpers/run/identity.ts";
import { startChild, vitestCommand } from "../../helpers/child-runs/child.ts";
import { copyImages, startPrivateEngine, type PrivateEngine } from "../../helpers/private-engines/lifecycle.ts";

const NGINX_LAB = vitestCommand("--project", "labs", "specs/lab-3-3-nginx.spec.ts");

// The nginx lab with a temporary HOME whose ~/.testcontainers.properties alone names the engine: the user's own home
// is never the test bed.
async function runNamedByProperties(dockerHost: string) {
  const home = await mkdtemp(join(tmpdir(), "labs-home-"));
  try {
    await writeFile(join(home, ".testcontainers.properties"), `docker.host=${dockerHost}\n`);
    const child = startChild(NGINX_LAB, { env: { DOCKER_HOST: undefined, HOME: home, LABS_IMAGES: "local" } });
    return { child, code: (await child.exited).code };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

describe("The engine is found the way testcontainers finds it", { timeout: 240_000 }, () => {
  let engine: PrivateEngine;
  beforeAll(async () => {
    engine = await startPrivateEngine({ name: `discovery-${process.pid}`, engine: "docker20", quiet: true });
    await copyImages(await dockerApi(), engine.docker, ["labs-stand-in/nginx:1.18"]);
  });
  afterAll(() => engine?.stop());

  it("an engine named only by docker.host in ~/.testcontainers.properties, on a non-default socket", async () => {
    const { child, code } = await runNamedByProperties(engine.host);
    expect(code, child.output().slice(-3000)).toBe(0);
    expect(child.output()).toMatch(new RegExp(`^engine: Docker \\S+ linux/\\S+ at ${engine.host} `, "m"));
    expect(child.output()).toMatch(RUN_LINE);
  });

  it("a properties file naming an engine that does not answer: one line, no fallback to the default socket", async () => {
    const startedAt = Date.now();
    const { child, code } = await runNamedByProperties("unix:///nonexistent/labs.sock");
    expect(code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    const lines = child.stderr().trim().split("\n");
    expect(lines, child.output()).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^No Docker engine answered at docker\.host in \S+\.testcontainers\.properties=unix:\/\/\/nonexistent\/labs\.sock: no socket there\./,
    );
  });
});
