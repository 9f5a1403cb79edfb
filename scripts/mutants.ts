// Proves the lab specs can fail: builds each deliberately broken image under images/broken/, runs the specs that
// use the image it breaks with LABS_IMAGE_MAP pointing at it, and reports which steps caught it.
// `npm run mutants [name ...]`; exits 1 if a broken image passes every step.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CATALOGUE } from "../helpers/catalogue/entries.ts";
import { vitestCommand } from "../helpers/self-test/child-run.ts";

const ROOT = join(import.meta.dirname, "..");
const BROKEN = join(ROOT, "images", "broken");

interface Report {
  testResults: { assertionResults: { ancestorTitles: string[]; title: string; status: string }[] }[];
}

function docker(...args: string[]) {
  return spawnSync("docker", args, { encoding: "utf8" });
}

function officialOf(mutant: string): string {
  const from = readFileSync(join(BROKEN, mutant, "Dockerfile"), "utf8").match(/^FROM\s+(\S+)/m)?.[1];
  const entry = CATALOGUE.find(({ standIn }) => standIn === from);
  if (!entry) throw new Error(`images/broken/${mutant}: FROM ${from} is not a stand-in`);
  return entry.official;
}

// A spec uses an image when it names it, or when it imports a helper that does (the registry helper, say).
function specsUsing(official: string): string[] {
  const names = (file: string) => readFileSync(join(ROOT, file), "utf8").includes(`labImage("${official}")`);
  const helpers = readdirSync(join(ROOT, "helpers"))
    .filter((file) => names(join("helpers", file)))
    .map((file) => `../helpers/${file}`);
  return readdirSync(join(ROOT, "specs"))
    .filter((file) => file.startsWith("lab-") && file.endsWith(".spec.ts"))
    .map((file) => join("specs", file))
    .filter((spec) => {
      const text = readFileSync(join(ROOT, spec), "utf8");
      return names(spec) || helpers.some((helper) => text.includes(`"${helper}"`));
    });
}

function failingSteps(mutant: string, official: string, specs: string[]): string[] {
  const out = mkdtempSync(join(tmpdir(), "labs-mutant-"));
  try {
    const report = join(out, "report.json");
    spawnSync(
      process.execPath,
      vitestCommand("--project", "labs", ...specs, "--reporter=json", `--outputFile=${report}`),
      {
        cwd: ROOT,
        stdio: "ignore",
        env: {
          ...process.env,
          LABS_IMAGES: process.env.LABS_IMAGES ?? "local",
          LABS_IMAGE_MAP: JSON.stringify({ [official]: `labs-mutant/${mutant}` }),
        },
      },
    );
    const { testResults } = JSON.parse(readFileSync(report, "utf8")) as Report;
    return testResults.flatMap(({ assertionResults }) =>
      assertionResults
        .filter(({ status }) => status === "failed")
        .map(({ ancestorTitles, title }) => `${ancestorTitles.join(" > ")} > ${title}`),
    );
  } catch (error) {
    return [`the run produced no report: ${error instanceof Error ? error.message : String(error)}`];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
const mutants = readdirSync(BROKEN).filter((name) => wanted.length === 0 || wanted.includes(name));
let uncaught = 0;
try {
  for (const mutant of mutants) {
    const official = officialOf(mutant);
    const built = docker(
      "build",
      "-q",
      "--label",
      `labs.mutant=${mutant}`,
      "-t",
      `labs-mutant/${mutant}`,
      join(BROKEN, mutant),
    );
    if (built.status !== 0) throw new Error(`building images/broken/${mutant} failed:\n${built.stderr}`);
    const specs = specsUsing(official);
    console.log(`mutant ${mutant} (stands for ${official}): running ${specs.join(", ")}`);
    const caughtBy = failingSteps(mutant, official, specs);
    if (caughtBy.length === 0) uncaught++;
    console.log(
      caughtBy.length ? caughtBy.map((step) => `  caught by: ${step}`).join("\n") : "  NOT CAUGHT: every step passed",
    );
  }
} finally {
  const images = docker("images", "-q", "--filter", "label=labs.mutant").stdout.split("\n").filter(Boolean);
  if (images.length) docker("image", "rm", "-f", ...new Set(images));
}
console.log(`${mutants.length - uncaught} of ${mutants.length} broken images caught`);
process.exit(uncaught ? 1 : 0);
