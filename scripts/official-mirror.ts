// The official path on a machine with no registry: `node scripts/official-mirror.ts [spec file ...]` starts the local
// mirror for the images of those labs (default: every lab), runs `LABS_IMAGES=official npm run labs` on an engine
// that pulls through it, checks that every image came from the mirror by its official name and that the report
// shows its reference, digest and stand-in label, then stops all it started, also on Ctrl-C or SIGTERM.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { npmCommand, startChild } from "../helpers/child-runs/child.ts";
import { readRunResult, RESULTS_IN_REPORT, type RunResult } from "../helpers/vitest/run-results.ts";
import { imagesOfSpecFiles } from "../helpers/catalogue/selection.ts";
import { RUN_LINE } from "../helpers/run/identity.ts";
import { startOfficialMirror, type OfficialMirror } from "../helpers/registry-mirror/mirror-engine.ts";
import { abortOnSignals, signalExitCode } from "../helpers/util/processes.ts";
import { since } from "../helpers/util/time.ts";

const seconds = (start: number) => `${since(start).toFixed(1)} s`;
const say = (line: string) => console.log(`official mirror: ${line}`);
const stopped = abortOnSignals((signal) =>
  console.error(`official mirror: ${signal}, stopping the labs and the mirror`),
);

// What a run through the mirror must show to count as the official path: each image fetched from the mirror by its
// tag (not found locally), and named in the report by the reference it ran under, the very digest the mirror holds,
// and the stand-in label it carried through the registry.
async function officialPathProblems(mirror: OfficialMirror, output: string, run: RunResult): Promise<string[]> {
  const served = new Set(await mirror.manifestsServed());
  const images = [...new Set(run.files.flatMap(({ images }) => images))];
  const problems: string[] = [];
  for (const { official, repository, tag, digest } of mirror.copies) {
    const ref = mirror.imageMap[official] ?? official;
    if (!output.includes(`images: pulling ${ref}`)) problems.push(`the run did not pull ${ref}: it had a local copy`);
    if (!served.has(`${repository}:${tag}`)) problems.push(`the mirror never served ${repository}:${tag} by its tag`);
    const shown = images.find((image) => image.startsWith(`${official} -> ${ref} (`));
    if (!shown) problems.push(`the report names no image line for ${official} run as ${ref}`);
    else if (!shown.includes(`, digest ${digest})`)) problems.push(`the report shows ${official} without ${digest}`);
    else if (!shown.endsWith(`stand-in for ${official}`) && !shown.includes(`stand-in for ${official},`))
      problems.push(`the report does not show the stand-in label of ${official}: ${shown}`);
  }
  return problems;
}

async function main(files: string[]): Promise<number> {
  const specs = files.length
    ? files
    : readdirSync("specs")
        .filter((f) => f.endsWith(".spec.ts"))
        .map((f) => join("specs", f));
  const officials = imagesOfSpecFiles(specs).map(({ official }) => official);
  say(`putting ${officials.join(", ")} into a registry on 127.0.0.1`);
  const mirror = await startOfficialMirror(officials);
  try {
    const { registryS, pushS, pushedMB, engineS } = mirror.timings;
    say(
      `registry ${mirror.mirrorUrl} up in ${registryS} s; stand-ins put under official names (${pushedMB} MB of ` +
        `layers) in ${pushS} s, meanwhile engine ${mirror.host} (registry-mirrors ${mirror.mirrorUrl}, empty data ` +
        `root) up in ${engineS} s`,
    );
    const started = performance.now();
    const command = npmCommand("run", "--silent", "labs", "--", ...files);
    const labs = startChild(command, { env: mirror.env, ownGroup: false, echo: true, signal: stopped });
    const { code } = await labs.exited;
    say(`the labs ran in ${seconds(started)} and exited ${code}`);
    const runId = RUN_LINE.exec(labs.output())?.[1];
    if (code !== 0 || !runId) return 1;
    const result = await readRunResult(join("reports", runId, RESULTS_IN_REPORT));
    const problems = await officialPathProblems(mirror, labs.output(), result);
    // The report's own check (a section per lab, a row per step) holds for a run of every lab.
    const check = () =>
      spawnSync(process.execPath, ["scripts/check-report.ts", join("reports", runId)], { stdio: "inherit" });
    if (!files.length && check().status !== 0) problems.push("the report check failed");
    for (const problem of problems) console.error(`official mirror: ${problem}`);
    if (problems.length) return 1;
    say(
      `all ${mirror.copies.length} images were pulled by name from the mirror; reports/${runId}/report.md shows ` +
        "each one's reference, digest and stand-in label",
    );
    return 0;
  } finally {
    const stopping = performance.now();
    await mirror[Symbol.asyncDispose]();
    say(`engine and registry stopped and removed in ${seconds(stopping)}`);
  }
}

process.exitCode = await main(process.argv.slice(2))
  .catch((error: Error) => {
    console.error(`official mirror: ${error.message}`);
    return 1;
  })
  .then((code) => (stopped.aborted ? signalExitCode(stopped) : code));
