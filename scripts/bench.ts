// `npm run bench [-- --rounds N] [-- --service-only]`: what the suite costs above its critical path (the slowest
// container getting ready, as the bench's own probe sees it, plus the sampling windows the steps declare), and the
// runner's peak memory, against the targets of issue 16; beside it, a plain bash baseline of the same service labs.
// Each round runs the service labs 3-1, 3-2, 3-3 under vitest, then bench/baseline.sh, then (unless --service-only)
// the whole labs project; alternating them spreads the engine's noise over both. It measures, it does not judge: a
// missed target exits 0, a failed run exits 1.
import { parseArgs } from "node:util";
import { dockerApi } from "../helpers/engine/client.ts";
import { CATALOGUE } from "../helpers/catalogue/entries.ts";
import { figures, type RunFigures } from "../bench/critical-path.ts";
import { machine } from "../bench/machine.ts";
import { DEFINITIONS, median, runNotes, runTable, targets } from "../bench/report.ts";
import { runBaseline, runSuite, type Finished } from "../bench/runs.ts";
import { cadvisorWindowMs, windowsMs } from "../bench/windows.ts";

const SERVICE_SPECS = ["lab-3-1-mysql", "lab-3-2-cadvisor", "lab-3-3-nginx"].map((lab) => `specs/${lab}.spec.ts`);

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function options() {
  try {
    const { values } = parseArgs({
      options: { rounds: { type: "string", default: "2" }, "service-only": { type: "boolean", default: false } },
      strict: true,
    });
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1)
      throw new Error(`--rounds wants a whole number ≥ 1, not ${values.rounds}`);
    return { rounds, serviceOnly: values["service-only"] };
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\nusage: npm run bench -- [--rounds N] [--service-only]`);
    process.exit(2);
  }
}

// Without the engine or a stand-in the runs would fail (or pull) instead of measuring.
async function preflight(): Promise<boolean> {
  try {
    const docker = await dockerApi();
    const missing: string[] = [];
    for (const { standIn } of CATALOGUE)
      await docker
        .getImage(standIn)
        .inspect()
        .catch(() => missing.push(standIn));
    if (missing.length) console.error(`bench: not built: ${missing.join(", ")}: run \`npm run images:build\``);
    return missing.length === 0;
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    return false;
  }
}

// A failed run did not do all its work, so its times would flatter the suite: it is named, left out of the figures,
// and the bench exits 1.
const failures: string[] = [];
function passed(what: string, run: Finished): boolean {
  if (run.exitCode === 0) return true;
  console.error(run.output.trimEnd().split("\n").slice(-30).join("\n"));
  failures.push(`${what} (exit ${run.exitCode})`);
  log(`${what} failed (exit ${run.exitCode}): left out`);
  return false;
}

async function main(): Promise<number> {
  const { rounds, serviceOnly } = options();
  if (!(await preflight())) return 1;
  const service: RunFigures[] = [];
  const whole: RunFigures[] = [];
  const baseline: Awaited<ReturnType<typeof runBaseline>>[] = [];
  const ratios: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    log(`round ${round}/${rounds}: the service labs under vitest ...`);
    const suite = await runSuite("verbose", SERVICE_SPECS);
    log(`round ${round}/${rounds}: bench/baseline.sh ...`);
    const script = await runBaseline(cadvisorWindowMs());
    const [suitePassed, scriptPassed] = [
      passed(`round ${round}: the service labs`, suite),
      passed(`round ${round}: bench/baseline.sh`, script),
    ];
    if (suitePassed) service.push(figures(suite, windowsMs));
    if (scriptPassed) baseline.push(script);
    if (suitePassed && scriptPassed) {
      ratios.push((suite.exitedAt - suite.launchedAt) / (script.exitedAt - script.launchedAt));
    }
    if (serviceOnly) continue;
    log(`round ${round}/${rounds}: every lab (vitest run --project labs, the labs reporter) ...`);
    const labs = await runSuite("./helpers/vitest/labs-reporter.ts");
    if (passed(`round ${round}: every lab`, labs)) whole.push(figures(labs, windowsMs));
  }

  const out = [`Machine: ${await machine()}. Each figure is the median of the rounds, their range beside it.`];
  if (service.length) {
    out.push(
      "",
      `### Service labs (${service.length} rounds): \`vitest run --project labs ${SERVICE_SPECS.join(" ")}\``,
      "",
      ...runTable(service, baseline),
      "",
      runNotes(service),
    );
  }
  if (ratios.length) {
    out.push(
      `Suite / baseline, each round's pair run back to back: ${ratios.map((r) => r.toFixed(2)).join(", ")} ` +
        `(median ${median(ratios).toFixed(2)}).`,
    );
  }
  if (whole.length) {
    out.push("", `### Every lab (${whole.length} rounds): \`vitest run --project labs\``, "", ...runTable(whole));
    out.push("", runNotes(whole));
  }
  if (service.length) out.push("", "### Targets", "", ...targets(service, whole), "", ...DEFINITIONS);
  if (failures.length) out.push("", `**Failed runs, left out:** ${failures.join("; ")}.`);
  console.log(out.join("\n"));
  return failures.length ? 1 : 0;
}

process.exitCode = await main();
