// Checks the report folder a `npm run labs` run wrote against the steps vitest recorded (the run model beside the
// report): a step of every lab spec and of the notes as printed, a section per lab and a row per step in report.md,
// each step passed or not applicable under the one rule (a named image label, engine fact or runner fact and its
// upstream reason), JUnit XML, and the kept evidence files.
// `node scripts/check-report.ts [reports/<run>]` (default: the folder reports/latest.txt names).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { counts, exitCauses, readRunResult, RESULTS_IN_REPORT, unverified } from "../helpers/vitest/run-results.ts";
import { LATEST, rowStart } from "../helpers/vitest/lab-report.ts";

const EVIDENCE = [
  "lab-3-3-nginx-welcome.png",
  "lab-3-2-cadvisor-workload-cpu.svg",
  "lab-3-2-cadvisor-workload-cpu.png",
];
// The labs, and the notes' commands that cannot be typed as printed (a section of its own, a row per command).
const REPORTED = /^(lab-[^/]+|notes-as-printed)\.spec\.ts$/;
const fail = (why: string): never => {
  console.error(`report check failed${why}`);
  process.exit(1);
};
const latest = () => {
  if (!existsSync(LATEST)) fail(`: ${LATEST} is missing; run the labs first (npm run labs) or name a report folder`);
  return join("reports", readFileSync(LATEST, "utf8").trim());
};
const dir = process.argv[2] ?? latest();
const result = await readRunResult(join(dir, RESULTS_IN_REPORT)).catch((error: Error) =>
  fail(`: ${dir} has no run model: ${error.message}`),
);
const problems: string[] = [];
for (const file of ["report.md", "junit.xml", ...EVIDENCE]) {
  if (!existsSync(join(dir, file))) problems.push(`${dir}/${file} is missing`);
}
const report = existsSync(join(dir, "report.md")) ? readFileSync(join(dir, "report.md"), "utf8") : "";

for (const spec of readdirSync("specs").filter((file) => REPORTED.test(file))) {
  if (!result.steps.some(({ file }) => file === join("specs", spec)))
    problems.push(`the run has no step of specs/${spec}`);
}
for (const { lab, file } of result.files) {
  if (!report.includes(`## ${lab}\n`)) problems.push(`report.md has no section "${lab}" (${file})`);
}
for (const step of result.steps) {
  if (!report.includes(rowStart(step))) problems.push(`report.md has no ${step.state} row for "${step.title}"`);
}
problems.push(...exitCauses(result), ...unverified(result));

for (const { fullName, note } of result.steps.filter(({ state }) => state === "not applicable")) {
  console.log(`not verified by this run: ${fullName}: ${note}`);
}
const summary = `${result.steps.length} steps: ${counts(result.steps)}`;
if (problems.length > 0) fail(` (${summary}):\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
console.log(`report check: ${dir} has a section per lab and a row for each of its ${summary}`);
