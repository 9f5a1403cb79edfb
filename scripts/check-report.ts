// Checks the report folder a `npm run labs` run wrote against the steps vitest itself recorded: a section per lab, a row
// per step, no failed row, every "not applicable" row under the one rule (a named image label, engine fact or runner
// fact and its upstream reason), JUnit XML with every step, and the kept evidence files.
// `node scripts/check-report.ts [reports/<run>]` (default: the folder reports/latest.txt names).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NOT_APPLICABLE } from "../helpers/lab/applicability.ts";
import { LATEST } from "../helpers/vitest/lab-report.ts";

const EVIDENCE = [
  "lab-3-3-nginx-welcome.png",
  "lab-3-2-cadvisor-workload-cpu.svg",
  "lab-3-2-cadvisor-workload-cpu.png",
];
// The labs, and the notes' commands that cannot be typed as printed (a section of its own, a row per command).
const REPORTED = /(^|\/)(lab-[^/]+|notes-as-printed)\.spec\.ts$/;
const latest = () => {
  if (!existsSync(LATEST)) {
    console.error(
      `report check failed: ${LATEST} is missing; run the labs first (npm run labs) or name a report folder`,
    );
    process.exit(1);
  }
  return join("reports", readFileSync(LATEST, "utf8").trim());
};
const dir = process.argv[2] ?? latest();
const problems: string[] = [];
const read = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : "");
const [report, junit] = [read("report.md"), read("junit.xml")];
if (!report) problems.push(`${dir}/report.md is missing`);
if (!junit) problems.push(`${dir}/junit.xml is missing`);

// The steps as vitest's own JUnit reporter recorded them (`vitest list` omits steps declared through `test.extend`).
const unescape = (text: string) =>
  text.replace(
    /&(lt|gt|quot|apos|amp);/g,
    (_, entity: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[entity]!,
  );
const steps = [...junit.matchAll(/<testcase classname="([^"]+)" name="([^"]+)"/g)]
  .map(([, file, name]) => ({ file: unescape(file!), name: unescape(name!) }))
  .filter(({ file }) => REPORTED.test(file));
for (const spec of readdirSync("specs").filter((file) => REPORTED.test(file))) {
  if (!steps.some(({ file }) => file.endsWith(spec))) problems.push(`junit.xml has no step of specs/${spec}`);
}

const escape = (text: string) => text.replaceAll("|", "\\|");
const notVerified: string[] = [];
for (const { name, file } of steps) {
  const [lab, ...rest] = name.split(" > ");
  const title = rest.join(" > ");
  if (!report.includes(`## ${lab}\n`)) problems.push(`report.md has no section "${lab}" (${file})`);
  const row = report.split("\n").find((line) => line.startsWith(`| \`${escape(title)}\` |`));
  const [, result = "", , observed = ""] = row?.replace(/ \|$/, "").split(" | ") ?? [];
  if (!row) problems.push(`report.md has no row for "${title}"`);
  else if (result === "failed") problems.push(`"${title}" failed: ${observed.slice(0, 200)}`);
  else if (result === "not applicable") {
    const reason = observed.split("<br>").find((line) => line.startsWith("not applicable"));
    if (!reason || !NOT_APPLICABLE.test(reason.replaceAll("\\|", "|")))
      problems.push(
        `"${title}" is not applicable without a named image label, engine fact or runner fact: ${observed}`,
      );
    else notVerified.push(`${lab} > ${title}: ${reason}`);
  } else if (result !== "passed") problems.push(`"${title}" has result "${result}"`);
}
for (const evidence of EVIDENCE) if (!existsSync(join(dir, evidence))) problems.push(`${dir}/${evidence} is missing`);

for (const line of notVerified) console.log(`not verified by this run: ${line}`);
if (problems.length > 0) {
  console.error(`report check failed:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
  process.exit(1);
}
console.log(`report check: ${dir} has a section per lab and a row for each of its ${steps.length} steps, none failed`);
