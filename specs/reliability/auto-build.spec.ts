import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { npmCommand, startChild } from "../../helpers/child-runs/child.ts";
import { startPrivateEngine } from "../../helpers/private-engines/lifecycle.ts";

// What building a stand-in needs (debootstrap finds Debian's archive itself when apt's sources name none); a machine
// without it fails this spec with the reason rather than skip it.
function cannotBuildBecause(): string | undefined {
  if (process.getuid?.() !== 0) return "debootstrap needs root, and this runs as a user";
  if (!existsSync("/usr/sbin/debootstrap")) return "debootstrap is missing (apt-get install -y debootstrap)";
  return undefined;
}

describe("LABS_IMAGES=auto on an engine with no registry and no stand-in", { timeout: 900_000 }, () => {
  it("`npm run labs` builds the stand-ins it lacks, showing the build, and the lab passes", async () => {
    const reason = cannotBuildBecause();
    if (reason) throw new Error(`this spec builds stand-ins, which cannot be done here: ${reason}`);
    // A throwaway data root: nothing built by anyone is there, and what this builds goes with it.
    await using engine = await startPrivateEngine({
      name: `auto-build-${process.pid}`,
      engine: "docker20",
      quiet: true,
    });
    const startedAt = Date.now();
    const child = startChild(npmCommand("run", "labs", "--", "specs/lab-3-3-nginx.spec.ts"), {
      env: { DOCKER_HOST: engine.host, LABS_IMAGES: "auto" },
    });
    const { code } = await child.exited;
    const output = child.output();
    const build = output.split("\n").filter((line) => /^(images: |\[\w+\] |benchmark: )/.test(line));
    console.log(
      `${build.join("\n")}\nnpm run labs exited ${code} after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    expect(code, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/^images: auto runs stand-ins, as the engine cannot pull [^\n]*nginx:1\.18/m);
    expect(output).toMatch(/^images: building the stand-ins this run needs and lacks: [^\n]*\bnginx\b/m);
    // The build's own progress: the base from Debian's archive, then each image's steps and its time.
    for (const progress of [
      /^\[debian\] debootstrap --variant=minbase bullseye/m,
      /^\[debian\] docker import -> labs-stand-in\/debian:bullseye$/m,
      /^\[nginx\] building labs-stand-in\/nginx:1\.18 \(stand-in for nginx:1\.18\)$/m,
      /^\[nginx\] Step 1\/\d+ : FROM labs-stand-in\/debian:bullseye$/m,
      /^\[nginx\] built in [\d.]+ s$/m,
      /^benchmark: cold build of \d+ stand-ins in [\d.]+ s/m,
    ])
      expect(output).toMatch(progress);
    expect(output).toMatch(
      /^image: nginx:1\.18 -> labs-stand-in\/nginx:1\.18 \([0-9a-f]{12}\) stand-in for nginx:1\.18$/m,
    );
    expect(output).toMatch(/^[1-9]\d* passed, 0 failed/m);
  });
});
