// Checks the report folder a `npm run labs` run wrote: a section per lab spec, a row per step, JUnit XML with every
// step, and the kept evidence files. `node scripts/check-report.ts [reports/<run>]` (default: reports/latest).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.argv[2] ?? join("reports", "latest");
const problems: string[] = [];
const read = (file: string) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : "");
const report = read("report.md");
const junit = read("junit.xml");
if (!report) problems.push(`${dir}/report.md is missing`);
if (!junit) problems.push(`${dir}/junit.xml is missing`);

let steps = 0;
for (const spec of readdirSync("specs").filter((file) => /^lab-.*\.spec\.ts$/.test(file))) {
  const source = readFileSync(join("specs", spec), "utf8");
  const title = source.match(/describe\(\s*"([^"]+)"/)?.[1];
  if (!title) {
    problems.push(`specs/${spec} has no describe title`);
    continue;
  }
  if (!report.includes(`## ${title}\n`)) problems.push(`report.md has no section "${title}"`);
  for (const [, step] of source.matchAll(/^\s*lab\(\s*"((?:[^"\\]|\\.)*)"/gm)) {
    steps++;
    const text = step!.replaceAll('\\"', '"');
    if (!report.includes(`| \`${text.replaceAll("|", "\\|")}\` |`)) problems.push(`report.md has no row for "${text}"`);
  }
}
const testcases = junit.match(/<testcase /g)?.length ?? 0;
if (testcases < steps) problems.push(`junit.xml has ${testcases} test cases, the lab specs have ${steps} steps`);
for (const evidence of ["lab-3-3-nginx-welcome.png", "lab-3-2-cadvisor-workload-cpu.svg"]) {
  if (!existsSync(join(dir, evidence))) problems.push(`${dir}/${evidence} is missing`);
}

if (problems.length > 0) {
  console.error(`report check failed:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
  process.exit(1);
}
console.log(
  `report check: ${dir} has every lab's section, ${steps} steps, ${testcases} JUnit test cases and the evidence`,
);
