// Proves the lab steps can fail: each broken image under images/broken/ declares in catches.json the official image
// it stands for and the steps its breakage is about. Those steps must pass on the unbroken stand-ins; then each broken
// image runs its own steps, and only those, through LABS_IMAGE_MAP, and it counts as caught only where every step it
// declares failed on an assertion. images/broken/no-broken-image.json names the steps no broken image here can fail
// and the fact that says why. `npm run mutants [--at-once N] [name ...]`; exits 1 unless every image is caught and,
// with no names, every step has a catching image or such a line.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { listSteps, onlySteps, runLabs } from "../helpers/child-runs/run-labs.ts";
import { dockerApi } from "../helpers/engine/client.ts";
import { inPool } from "../helpers/util/pool.ts";
import { abortOnSignals, signalExitCode } from "../helpers/util/processes.ts";
import { since } from "../helpers/util/time.ts";
import { coverage, coverageProblems, coverageTable, coverageText } from "./mutants/coverage.ts";
import { declaredMutants, declaredUnbreakables, ROOT, type Mutant } from "./mutants/declarations.ts";
import { buildMutant, mutantRef, removeMutantImages } from "./mutants/broken-images.ts";
import { filesOf, stepsOfMutants, stepsOfUnbreakables } from "./mutants/declared-steps.ts";
import { expectedSeconds, matrix, verdictOf, whyNotGreen, type Verdict } from "./mutants/verdicts.ts";

const MATRIX_FILE = join(ROOT, "reports", "mutants.md");
const runId = `${Date.now().toString(36)}-${process.pid}`;
const signal = abortOnSignals((name) =>
  console.error(`mutants: ${name}, stopping the lab runs and removing this run's images`),
);

const stopBuilds = new AbortController();

const labEnv = (map?: Record<string, string>) => ({ LABS_IMAGES: "local", LABS_IMAGE_MAP: map && JSON.stringify(map) });

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { "at-once": { type: "string" } } });
  const atOnce = Number(values["at-once"] ?? 2);
  if (!Number.isInteger(atOnce) || atOnce < 1) throw new Error(`--at-once ${values["at-once"]}: give 1 or more`);
  const started = performance.now();
  const seconds = () => since(started);
  const [mutants, unbreakableLines] = await Promise.all([declaredMutants(positionals), declaredUnbreakables()]);
  // Named images prove their own steps; only a run of all of them answers for every step.
  const whole = positionals.length === 0;
  const docker = await dockerApi();
  console.log(`mutants: run ${runId}, ${mutants.length} broken images, ${atOnce} at once`);
  try {
    // The builds overlap the search for the declared steps, and stop with it when a declaration is wrong.
    const builds = AbortSignal.any([signal, stopBuilds.signal]);
    const building = inPool(mutants, 2, builds, (mutant) => buildMutant(docker, mutant, runId, builds));
    // Awaited below; a build that fails before then is no unhandled rejection.
    building.catch(() => undefined);
    const found = listSteps({ env: labEnv(), signal }).then((steps) => ({
      steps,
      declared: stepsOfMutants(mutants, steps),
      unbreakables: stepsOfUnbreakables(unbreakableLines, steps),
    }));
    const { steps, declared, unbreakables } = await found.catch(async (error: unknown) => {
      stopBuilds.abort();
      await building.catch(() => undefined);
      throw error;
    });
    console.log(`mutants: ${steps.length} steps found (${seconds().toFixed(0)} s so far)`);

    // The baseline runs every declared step, and in a whole run the official-only ones, which must be not applicable.
    // It needs none of the broken images, so it runs while they build; a failed build stops it, and it the builds.
    const officialOnly = whole
      ? [...unbreakables].filter(([{ kind }]) => kind === "official image only").map(([, step]) => step)
      : [];
    const judged = [...[...declared.values()].flat(), ...officialOnly];
    const stopBaseline = new AbortController();
    const baselineRun = runLabs({
      files: filesOf(judged),
      args: [onlySteps(judged)],
      env: labEnv(),
      signal: AbortSignal.any([signal, stopBaseline.signal]),
    });
    await building.catch(async (error: unknown) => {
      stopBaseline.abort();
      await baselineRun;
      throw error;
    });
    console.log(`mutants: ${mutants.length} images built (${seconds().toFixed(0)} s so far)`);
    const baseline = await baselineRun;
    signal.throwIfAborted();
    const notGreen = whyNotGreen(
      baseline,
      mutants,
      officialOnly.map(({ fullName }) => fullName),
    );
    if (notGreen) throw new Error(`mutants: not green on the unbroken stand-ins, so nothing to prove: ${notGreen}`);
    console.log(
      `mutants: the ${judged.length} declared steps green on the stand-ins in ${baseline.seconds.toFixed(0)} s ` +
        `(${seconds().toFixed(0)} s so far)`,
    );

    // Each image runs its own steps only; longest first, judged by the baseline, so that the last runs are short ones.
    const expected = (mutant: Mutant) => expectedSeconds(baseline.result, declared.get(mutant)!);
    const verdicts: Verdict[] = [];
    const longestFirst = mutants.toSorted((a, b) => expected(b) - expected(a));
    await inPool(longestFirst, atOnce, signal, async (mutant) => {
      const own = declared.get(mutant)!;
      const map = { [mutant.official]: mutantRef(mutant, runId) };
      const run = await runLabs({ files: filesOf(own), args: [onlySteps(own)], env: labEnv(map), signal });
      if (signal.aborted) return;
      const verdict = verdictOf(mutant, run);
      verdicts.push(verdict);
      console.log(`  ${mutant.name} (${mutant.official}, ${verdict.seconds.toFixed(0)} s): ${verdict.why}`);
      for (const { title, failure } of [...verdict.catching, ...verdict.elsewhere]) {
        console.log(`    × "${title}" (${failure?.kind}): ${failure?.name}: ${failure?.message.split("\n")[0]}`);
      }
    });
    signal.throwIfAborted();
    verdicts.sort((a, b) => mutants.indexOf(a.mutant) - mutants.indexOf(b.mutant));
    const caught = verdicts.filter(({ caught }) => caught).length;
    const summary = `${caught} of ${verdicts.length} broken images caught by each step they declare, on an assertion, in ${seconds().toFixed(0)} s`;
    const table = matrix(verdicts);
    console.log(`\n${table}\n\nmutants: ${summary}; matrix in ${relative(ROOT, MATRIX_FILE)}`);

    const rows = coverage(whole ? steps : [...new Set(judged)], verdicts, unbreakables);
    const gaps = whole ? coverageProblems(rows) : [];
    console.log(`\n${coverageText(rows)}`);
    if (!whole)
      console.log("coverage: of the named images' steps only; `npm run mutants` with no names judges every step");
    for (const gap of gaps) console.error(`mutants: ${gap}`);
    await mkdir(join(ROOT, "reports"), { recursive: true });
    await writeFile(
      MATRIX_FILE,
      `# Broken images\n\nRun ${runId}, ${new Date().toISOString()}: ${summary}.\n\n${table}\n\n` +
        `## Coverage${whole ? "" : " (the named images' steps only)"}\n\n${coverageTable(rows)}\n`,
    );
    return caught === verdicts.length && gaps.length === 0 ? 0 : 1;
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
