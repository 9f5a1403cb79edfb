import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { startChild, vitestCommand } from "../../helpers/child-runs/child.ts";
import { dockerApi } from "../../helpers/engine/client.ts";
import { runOwnerPid } from "../../helpers/run/identity.ts";
import { runsOnEngine } from "../../helpers/run/sweep.ts";

const STOPS_WITHIN_MS = 10_000;
const NGINX_LAB = vitestCommand("--project", "labs", "specs/lab-3-3-nginx.spec.ts");

async function expectOneLineRefusal(command: string[], env: NodeJS.ProcessEnv, message: RegExp) {
  const startedAt = Date.now();
  const child = startChild(command, { env });
  const { code } = await child.exited;
  expect(Date.now() - startedAt).toBeLessThan(STOPS_WITHIN_MS);
  expect(code).toBe(1);
  const lines = child.stderr().trim().split("\n");
  expect(lines, child.output()).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  const runs = [...(await runsOnEngine(await dockerApi())).keys()];
  expect(runs.filter((runId) => runOwnerPid(runId) === child.pid)).toEqual([]);
}

describe("Bad input: one clear line with the fix, within seconds, nothing left running", { timeout: 30_000 }, () => {
  it("Node older than 22.22 is refused before anything else", async () => {
    const oldNode =
      'Object.defineProperty(process.versions, "node", { value: "20.11.0" }); await import("./scripts/check-node.mjs");';
    await expectOneLineRefusal(
      ["--input-type=module", "-e", oldNode],
      {},
      /needs Node >= 22\.22.*this is Node 20\.11\.0.*Install a current Node/,
    );
  });

  // The nginx lab, refused for its environment alone.
  for (const [title, env, message] of [
    [
      "no engine at DOCKER_HOST",
      { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      /^No Docker engine answered at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock: no socket there\. Start that engine/,
    ],
    [
      "LABS_IMAGE_MAP that is not JSON",
      { LABS_IMAGE_MAP: "nginx:1.18=mirror/nginx" },
      /^LABS_IMAGE_MAP is not JSON: give an object such as/,
    ],
    [
      "LABS_IMAGE_MAP naming an image the labs do not use",
      { LABS_IMAGE_MAP: '{"nginx:1.99": "mirror/nginx:1.99"}' },
      /^"nginx:1\.99" is not a lab image; the catalogue knows /,
    ],
    [
      "LABS_IMAGES with an unknown source",
      { LABS_IMAGES: "stand-ins" },
      /^LABS_IMAGES=stand-ins is not an image source: use official, local or auto$/,
    ],
  ] as const) {
    it(title, () => expectOneLineRefusal(NGINX_LAB, env, message));
  }

  it("LABS_BOOK_PORTS=1 while the book's port 8001 is taken", async () => {
    await using server = createServer();
    await new Promise<void>((resolve) => server.listen(8001, "127.0.0.1", resolve));
    await expectOneLineRefusal(
      NGINX_LAB,
      { LABS_BOOK_PORTS: "1" },
      /^LABS_BOOK_PORTS=1 needs host port 8001 for the nginx webserver of Lab 3-3, but it is taken: free it/,
    );
  });

  it("a platform the engine cannot run (LABS_PLATFORM=linux/s390x)", async () => {
    await expectOneLineRefusal(
      vitestCommand("--project", "labs", "specs/lab-3-1-mysql.spec.ts"),
      { LABS_PLATFORM: "linux/s390x" },
      /^LABS_PLATFORM=linux\/s390x: this engine cannot run \S+ as linux\/s390x \(.+\)\. Enable emulation/,
    );
  });

  it("a stand-in missing in local mode", async () => {
    const docker = await dockerApi();
    const standIn = docker.getImage("labs-stand-in/nginx:1.18");
    await standIn.tag({ repo: "labs-stand-in/nginx", tag: "kept-by-bad-input-test" });
    await standIn.remove();
    try {
      await expectOneLineRefusal(
        NGINX_LAB,
        { LABS_IMAGES: "local" },
        /^The stand-in labs-stand-in\/nginx:1\.18 for nginx:1\.18 is not built: run `npm run images:build`/,
      );
    } finally {
      const kept = docker.getImage("labs-stand-in/nginx:kept-by-bad-input-test");
      await kept.tag({ repo: "labs-stand-in/nginx", tag: "1.18" });
      await kept.remove();
    }
  });
});
