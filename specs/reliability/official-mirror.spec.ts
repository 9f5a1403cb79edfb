import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerApi } from "../../helpers/engine/client.ts";
import { dockerApiAt } from "../../helpers/engine/hosts.ts";
import { startChild, vitestCommand } from "../../helpers/child-runs/child.ts";
import { startOfficialMirror, type OfficialMirror } from "../../helpers/registry-mirror/mirror-engine.ts";

const NGINX_LAB = vitestCommand("--project", "labs", "specs/lab-3-3-nginx.spec.ts");
const FAILS_WITHIN_MS = 15_000;
const FALLBACK_LINE = /^images: auto runs stand-ins, as the engine cannot pull .*$/gm;

// One mirror for the file: putting a stand-in into the registry is the slow part. The tests run in this order, and
// the last one stops the registry.
describe("The official path through a local registry mirror", { timeout: 300_000 }, () => {
  let mirror: OfficialMirror;
  beforeAll(async () => {
    mirror = await startOfficialMirror(["nginx:1.18"]);
    const { registryS, pushS, pushedMB, engineS } = mirror.timings;
    console.log(`mirror: registry ${registryS} s, ${pushedMB} MB put in ${pushS} s, engine ${engineS} s meanwhile`);
  }, 600_000);
  afterAll(() => mirror?.[Symbol.asyncDispose]());

  it("auto, with the mirror configured and Docker Hub unreachable, pulls the official name", async () => {
    const child = startChild(NGINX_LAB, { env: { ...mirror.env, LABS_IMAGES: "auto" } });
    const { code } = await child.exited;
    const output = child.output();
    expect(code, output.slice(-3000)).toBe(0);
    expect(output).not.toMatch(FALLBACK_LINE);
    expect(output).toContain("images: pulling nginx:1.18");
    const digest = mirror.copies[0]!.digest;
    // The stand-in's own label still says what ran, under the official name it was pulled by.
    expect(output).toMatch(
      new RegExp(
        `^image: nginx:1\\.18 -> nginx:1\\.18 \\([0-9a-f]{12}, digest ${digest}\\) stand-in for nginx:1\\.18$`,
        "m",
      ),
    );
    expect(await mirror.manifestsServed()).toContain("library/nginx:1.18");
  });

  it("auto, with no mirror and no registry, runs the stand-ins and says why in one line", async () => {
    const info = await (await dockerApi()).info();
    expect(info.RegistryConfig?.Mirrors ?? [], "the suite's own engine must have no registry mirror").toEqual([]);
    const child = startChild(NGINX_LAB, { env: { LABS_IMAGES: "auto" } });
    const { code } = await child.exited;
    const output = child.output();
    expect(code, output.slice(-3000)).toBe(0);
    const fallback = output.match(FALLBACK_LINE) ?? [];
    expect(fallback, output.slice(0, 3000)).toHaveLength(1);
    expect(fallback[0]).toMatch(/cannot pull [^(]*\bnginx:1\.18\b[^(]* \(.*registry-1\.docker\.io.*\)/);
    expect(output).toMatch(
      /^image: nginx:1\.18 -> labs-stand-in\/nginx:1\.18 \([0-9a-f]{12}\) stand-in for nginx:1\.18$/m,
    );
  });

  it("official, with the mirror stopped: the global setup fails within seconds in one line with the fix", async () => {
    const engine = dockerApiAt(mirror.host);
    await engine.getImage("nginx:1.18").remove({ force: true }); // pulled by the first test
    await mirror.stopRegistry();
    const startedAt = Date.now();
    const child = startChild(NGINX_LAB, { env: mirror.env });
    const { code } = await child.exited;
    const tookMs = Date.now() - startedAt;
    const lines = child.stderr().trim().split("\n");
    console.log(`mirror stopped: the run exited ${code} after ${tookMs} ms: ${lines.join(" | ")}`);
    expect(tookMs).toBeLessThan(FAILS_WITHIN_MS);
    expect(code).toBe(1);
    expect(lines, child.output()).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^Could not pull nginx:1\\.18 through the engine's registry mirror ${mirror.mirrorUrl}/? nor from ` +
          "registry-1\\.docker\\.io: .+\\. Start the mirror \\(or take it out of the engine's registry-mirrors\\)",
      ),
    );
    expect(child.output()).not.toContain("Lab 3-3");
    expect(await engine.listContainers({ all: true })).toEqual([]);
  });
});
