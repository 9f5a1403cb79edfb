import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { startChildRun, vitestCommand } from "../../helpers/self-test/child-run.ts";
import { RUN_LINE } from "../../helpers/run/identity.ts";

async function filesWrittenSince(dir: string, since: number): Promise<string[]> {
  const written: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (/(^|\/)(node_modules|\.git)(\/|$)/.test(relative(dir, path)) || !entry.isFile()) continue;
    if ((await stat(path)).mtimeMs >= since) written.push(path);
  }
  return written;
}

describe("No generated secret appears in any output", { timeout: 300_000 }, () => {
  it("npm run labs: stdout, stderr and every file the run writes are free of its passwords", async () => {
    const audit = await mkdtemp(join(tmpdir(), "labs-secrets-"));
    const startedAt = Date.now();
    try {
      const child = startChildRun(vitestCommand("--project", "labs", "--reporter=./helpers/vitest/labs-reporter.ts"), {
        LABS_SECRETS_AUDIT_FILE: join(audit, "secrets"),
      });
      const { code } = await child.exited;
      expect(code, child.output().slice(-3000)).toBe(0);
      const runId = child.output().match(RUN_LINE)![1]!;
      const secrets = [...new Set((await readFile(join(audit, "secrets"), "utf8")).split("\n").filter(Boolean))];
      expect(secrets.length).toBeGreaterThanOrEqual(8);

      const files = await filesWrittenSince(process.cwd(), startedAt);
      expect(files.some((file) => file.includes(join("reports", runId, "report.md")))).toBe(true);
      const outputs: [string, string][] = [
        ["stdout and stderr", child.output()],
        ...(await Promise.all(files.map(async (file) => [file, await readFile(file, "latin1")] as [string, string]))),
      ];
      const leaks = outputs.flatMap(([where, text]) =>
        secrets.filter((secret) => text.includes(secret)).map(() => where),
      );
      expect(leaks, "places where a generated secret appeared (the secrets themselves are not shown)").toEqual([]);
    } finally {
      await rm(audit, { recursive: true, force: true });
    }
  });
});
