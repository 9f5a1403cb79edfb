// The official path on a machine with no registry: `node scripts/official-mirror.ts [spec file ...]` starts the local
// mirror for the images of those labs (default: every lab), runs `LABS_IMAGES=official npm run labs` on an engine
// that pulls through it, checks that every image came from the mirror by its official name and that the report
// shows its reference, digest and stand-in label, then stops all it started, also on Ctrl-C or SIGTERM.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { imagesOfSpecFiles } from "../helpers/catalogue/selection.ts";
import { RUN_LINE } from "../helpers/run/identity.ts";
import { officialPathProblems } from "../helpers/self-test/mirror-evidence.ts";
import { startOfficialMirror } from "../helpers/self-test/official-mirror.ts";

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

async function main(files: string[]): Promise<number> {
  const specs = files.length
    ? files
    : readdirSync("specs")
        .filter((f) => f.endsWith(".spec.ts"))
        .map((f) => join("specs", f));
  const officials = imagesOfSpecFiles(specs).map(({ official }) => official);
  console.log(`official mirror: putting ${officials.join(", ")} into a registry on 127.0.0.1`);
  const mirror = await startOfficialMirror(officials);
  const stopAll = async () => mirror[Symbol.asyncDispose]();
  const { registryS, pushS, pushedMB, engineS } = mirror.timings;
  console.log(
    `official mirror: registry ${mirror.mirrorUrl} up in ${registryS} s; stand-ins put under official names ` +
      `(${pushedMB} MB of layers) in ${pushS} s, meanwhile engine ${mirror.host} (registry-mirrors ` +
      `${mirror.mirrorUrl}, empty data root) up in ${engineS} s`,
  );
  let labs: ReturnType<typeof spawn> | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      labs?.kill(signal);
      void stopAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
  try {
    const started = performance.now();
    labs = spawn("npm", ["run", "--silent", "labs", "--", ...files], {
      env: { ...process.env, ...mirror.env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    labs.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    const [code] = (await once(labs, "exit")) as [number | null];
    console.log(`official mirror: the labs ran in ${seconds(started)} and exited ${code}`);
    const runId = RUN_LINE.exec(output)?.[1];
    if (code !== 0 || !runId) return 1;
    const report = readFileSync(join("reports", runId, "report.md"), "utf8");
    const problems = await officialPathProblems(mirror, output, report);
    // The report's own check (a section per lab, a row per step) holds for a run of every lab.
    if (
      !files.length &&
      spawnSync(process.execPath, ["scripts/check-report.ts", join("reports", runId)], { stdio: "inherit" }).status
    )
      problems.push("the report check failed");
    for (const problem of problems) console.error(`official mirror: ${problem}`);
    if (problems.length) return 1;
    console.log(
      `official mirror: all ${mirror.copies.length} images were pulled by name from the mirror; reports/${runId}/report.md ` +
        "shows each one's reference, digest and stand-in label",
    );
    return 0;
  } finally {
    const stopping = performance.now();
    await stopAll();
    console.log(`official mirror: engine and registry stopped and removed in ${seconds(stopping)}`);
  }
}

process.exitCode = await main(process.argv.slice(2)).catch((error: Error) => {
  console.error(`official mirror: ${error.message}`);
  return 1;
});
