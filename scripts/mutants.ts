// Proves the lab steps can fail: each broken image under images/broken/ declares in catches.json the official image
// it stands for and the steps its breakage is about. The spec files holding those steps must pass on the unbroken
// stand-ins; then each broken image runs them through LABS_IMAGE_MAP, and it counts as caught only where a step it
// declares failed on an assertion. `npm run mutants [--at-once N] [name ...]`; exits 1 unless every one is caught.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { runLabs } from "../helpers/child-runs/run-labs.ts";
import { dockerApi } from "../helpers/engine/client.ts";
import { inPool } from "../helpers/util/pool.ts";
import { abortOnSignals, signalExitCode } from "../helpers/util/processes.ts";
import { since } from "../helpers/util/time.ts";
import { DeclarationError, declaredMutants, ROOT, type Mutant } from "./mutants/declarations.ts";
import { buildMutant, mutantRef, removeMutantImages } from "./mutants/images.ts";
import { specFilesOf } from "./mutants/declared-steps.ts";
import { matrix, secondsOfFile, verdictOf, whyNotGreen, type Verdict } from "./mutants/verdicts.ts";

const MATRIX_FILE = join(ROOT, "reports", "mutants.md");
const runId = `${Date.now().toString(36)}-${process.pid}`;
const signal = abortOnSignals((name) =>
  console.error(`mutants: ${name}, stopping the lab runs and removing this run's images`),
);

const stopBuilds = new AbortController();

const labEnv = (map?: Record<string, string>): NodeJS.ProcessEnv => ({
  LABS_IMAGES: "local",
  LABS_IMAGE_MAP: map && JSON.stringify(map),
});

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { "at-once": { type: "string" } } });
  const atOnce = Number(values["at-once"] ?? 2);
  if (!Number.isInteger(atOnce) || atOnce < 1)
    throw new DeclarationError(`--at-once ${values["at-once"]}: give 1 or more`);
  const started = performance.now();
  const seconds = () => since(started);
  const mutants = await declaredMutants(positionals);
  const docker = await dockerApi();
  console.log(`mutants: run ${runId}, ${mutants.length} broken images, ${atOnce} at once`);
  try {
    // The builds overlap the search for the declared steps, and stop with it when a declaration is wrong.
    const builds = AbortSignal.any([signal, stopBuilds.signal]);
    const building = inPool(mutants, 2, builds, (mutant) => buildMutant(docker, mutant, runId, builds));
    const files = await specFilesOf(mutants, labEnv(), signal).catch(async (error: unknown) => {
      stopBuilds.abort();
      await building.catch(() => undefined);
      throw error;
    });
    await building;
    console.log(`mutants: ${mutants.length} images built, their steps found (${seconds().toFixed(0)} s so far)`);
    const involved = [...new Set([...files.values()].flat())].sort();
    const baseline = await runLabs({ files: involved, env: labEnv(), signal });
    signal.throwIfAborted();
    const notGreen = whyNotGreen(baseline, mutants);
    if (notGreen)
      throw new DeclarationError(`mutants: not green on the unbroken stand-ins, so nothing to prove: ${notGreen}`);
    console.log(`mutants: ${involved.join(", ")} green on the stand-ins (${seconds().toFixed(0)} s so far)`);

    // Longest first, judged by the baseline, so that the last runs to finish are short ones.
    const expected = (mutant: Mutant) =>
      files.get(mutant)!.reduce((sum, file) => sum + secondsOfFile(baseline.result, file), 0);
    const verdicts: Verdict[] = [];
    await inPool(
      [...mutants].sort((a, b) => expected(b) - expected(a)),
      atOnce,
      signal,
      async (mutant) => {
        const map = { [mutant.official]: mutantRef(mutant, runId) };
        const run = await runLabs({ files: files.get(mutant)!, env: labEnv(map), signal });
        if (signal.aborted) return;
        const verdict = verdictOf(mutant, run);
        verdicts.push(verdict);
        console.log(`  ${mutant.name} (${mutant.official}, ${verdict.seconds.toFixed(0)} s): ${verdict.why}`);
        for (const { title, failure } of [...verdict.catching, ...verdict.elsewhere]) {
          console.log(`    × "${title}" (${failure?.kind}): ${failure?.name}: ${failure?.message.split("\n")[0]}`);
        }
      },
    );
    signal.throwIfAborted();
    verdicts.sort((a, b) => mutants.indexOf(a.mutant) - mutants.indexOf(b.mutant));
    const caught = verdicts.filter(({ caught }) => caught).length;
    const summary = `${caught} of ${verdicts.length} broken images caught by a declared step's assertion in ${seconds().toFixed(0)} s`;
    const table = matrix(verdicts);
    console.log(`\n${table}\n\nmutants: ${summary}; matrix in ${relative(ROOT, MATRIX_FILE)}`);
    await mkdir(join(ROOT, "reports"), { recursive: true });
    await writeFile(
      MATRIX_FILE,
      `# Broken images\n\nRun ${runId}, ${new Date().toISOString()}: ${summary}.\n\n${table}\n`,
    );
    return caught === verdicts.length ? 0 : 1;
  } finally {
    const left = await removeMutantImages(docker, runId);
    if (left.length > 0) console.error(`mutants: could not remove ${left.join(", ")} (still in use)`);
  }
}

main().then(
  (code) => process.exit(signal.aborted ? signalExitCode(signal) : code),
  (error: unknown) => {
    if (!signal.aborted) console.error(error instanceof Error ? error.message : String(error));
    process.exit(signal.aborted ? signalExitCode(signal) : 1);
  },
);
