import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// The layer order in eslint.config.js, as lint applies it to a file at a given place in the tree.
async function importRefused(file: string, specifier: string): Promise<boolean> {
  const [result] = await new ESLint().lintText(`import "${specifier}";\n`, { filePath: file });
  return result!.messages.some(({ ruleId }) => ruleId === "no-restricted-imports");
}

describe("imports run one way: specs → helpers/lab → run → engine → utilities", { timeout: 30_000 }, () => {
  it.each([
    ["helpers/engine/reach.ts", "../lab/engine.ts"],
    ["helpers/engine/reach.ts", "../run/identity.ts"],
    ["helpers/catalogue/plan.ts", "../engine/client.ts"],
    ["helpers/run/audit.ts", "../vitest/run-results.ts"],
    ["helpers/util/poll.ts", "../catalogue/entries.ts"],
    ["helpers/vitest/global-setup.ts", "../child-runs/child.ts"],
    ["helpers/private-engines/orphans.ts", "../../scripts/engines.ts"],
    ["specs/lab-3-3-nginx.spec.ts", "../helpers/run/identity.ts"],
  ])("%s may not import %s", async (file, specifier) => {
    expect(await importRefused(file, specifier)).toBe(true);
  });

  it.each([
    ["helpers/lab/containers.ts", "../run/identity.ts"],
    ["helpers/run/audit.ts", "../engine/client.ts"],
    ["helpers/engine/transfer.ts", "../catalogue/reference.ts"],
    ["helpers/child-runs/child.ts", "../vitest/run-results.ts"],
    ["specs/lab-3-3-nginx.spec.ts", "../helpers/lab/engine.ts"],
    ["scripts/engines.ts", "../helpers/private-engines/lifecycle.ts"],
  ])("%s may import %s", async (file, specifier) => {
    expect(await importRefused(file, specifier)).toBe(false);
  });
});
