// Proves the lab steps can fail: each broken image under images/broken/ declares in catches.json the official image
// it stands for and the steps its breakage is about. The spec files holding those steps must pass on the unbroken
// stand-ins; then each broken image runs them through LABS_IMAGE_MAP, and it counts as caught only where a step it
// declares failed on an assertion. `npm run mutants [--at-once N] [name ...]`; exits 1 unless every one is caught.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { dockerApi } from "../helpers/engine/client.ts";
import { DeclarationError, declaredMutants, ROOT, type Mutant } from "./mutants/declarations.ts";
import { buildMutant, mutantRef, removeMutantImages } from "./mutants/images.ts";
import { specFilesOf } from "./mutants/declared-steps.ts";
import { labRun } from "./mutants/lab-runs.ts";
import { matrix, verdictOf, whyNotGreen, type Verdict } from "./mutants/verdicts.ts";

const MATRIX_FILE = join(ROOT, "reports", "mutants.md");
const runId = `${Date.now().toString(36)}-${process.pid}`;
const cancel = new AbortController();
const { signal } = cancel;

const stopBuilds = new AbortController();

function labEnv(map?: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LABS_IMAGES: "local" };
  delete env.LABS_IMAGE_MAP;
  return map ? { ...env, LABS_IMAGE_MAP: JSON.stringify(map) } : env;
}

async function inPool<T>(items: readonly T[], size: number, until: AbortSignal, work: (item: T) => Promise<void>) {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined && !until.aborted; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { "at-once": { type: "string" } } });
  const atOnce = Number(values["at-once"] ?? 2);
  if (!Number.isInteger(atOnce) || atOnce < 1)
    throw new DeclarationError(`--at-once ${values["at-once"]}: give 1 or more`);
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
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
    const baseline = await labRun({ files: involved, env: labEnv(), signal });
    const notGreen = whyNotGreen(baseline.steps, mutants, baseline.unloadable);
    if (notGreen)
      throw new DeclarationError(`mutants: not green on the unbroken stand-ins, so nothing to prove: ${notGreen}`);
    console.log(`mutants: ${involved.join(", ")} green on the stand-ins (${seconds().toFixed(0)} s so far)`);

    // Longest first, judged by the baseline, so that the last runs to finish are short ones.
    const secondsOf = (file: string) => baseline.steps.reduce((sum, s) => sum + (s.file === file ? s.seconds : 0), 0);
    const expected = (mutant: Mutant) => files.get(mutant)!.reduce((sum, file) => sum + secondsOf(file), 0);
    const verdicts: Verdict[] = [];
    await inPool(
      [...mutants].sort((a, b) => expected(b) - expected(a)),
      atOnce,
      signal,
      async (mutant) => {
        const runStarted = performance.now();
        const map = { [mutant.official]: mutantRef(mutant, runId) };
        const { steps } = await labRun({ files: files.get(mutant)!, env: labEnv(map), signal });
        const verdict = verdictOf(mutant, steps, (performance.now() - runStarted) / 1000);
        verdicts.push(verdict);
        console.log(`  ${mutant.name} (${mutant.official}, ${verdict.seconds.toFixed(0)} s): ${verdict.why}`);
        for (const { title, failure } of [...verdict.catching, ...verdict.elsewhere]) {
          console.log(`    × "${title}" (${failure?.kind}): ${failure?.message}`);
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

const finished = main();

for (const name of ["SIGINT", "SIGTERM"] as const) {
  process.once(name, async () => {
    console.error(`mutants: ${name}, stopping the lab runs and removing this run's images`);
    cancel.abort();
    await finished.catch(() => undefined);
    process.exit(name === "SIGINT" ? 130 : 143);
  });
}

finished.then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (signal.aborted) return;
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
