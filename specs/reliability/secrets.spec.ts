import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerApi } from "../../helpers/engine/client.ts";
import { RUN_LINE } from "../../helpers/run/identity.ts";
import { imageBuiltFrom } from "../../helpers/stand-ins/recipe-build.ts";
import { startChild, vitestCommand } from "../../helpers/child-runs/child.ts";
import { LABS_REPORTER } from "../../helpers/child-runs/run-labs.ts";

async function filesWrittenSince(dir: string, since: number): Promise<string[]> {
  const written: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (/(^|\/)(node_modules|\.git)(\/|$)/.test(relative(dir, path)) || !entry.isFile()) continue;
    if ((await stat(path)).mtimeMs >= since) written.push(path);
  }
  return written;
}

// Runs the labs with the given arguments and returns every place one of the run's generated passwords appeared.
async function secretLeaks(args: string[], env: NodeJS.ProcessEnv, expectedCode: number): Promise<string[]> {
  const audit = await mkdtemp(join(tmpdir(), "labs-secrets-"));
  const startedAt = Date.now();
  try {
    const child = startChild(vitestCommand("--project", "labs", `--reporter=${LABS_REPORTER}`, ...args), {
      env: { ...env, LABS_SECRETS_AUDIT_FILE: join(audit, "secrets") },
    });
    const { code } = await child.exited;
    expect(code, child.output().slice(-3000)).toBe(expectedCode);
    const runId = child.output().match(RUN_LINE)![1]!;
    const secrets = [...new Set((await readFile(join(audit, "secrets"), "utf8")).split("\n").filter(Boolean))];
    expect(secrets.length).toBeGreaterThanOrEqual(3);

    const files = await filesWrittenSince(process.cwd(), startedAt);
    expect(files.some((file) => file.includes(join("reports", runId, "report.md")))).toBe(true);
    const outputs: [string, string][] = [
      ["stdout and stderr", child.output()],
      ...(await Promise.all(files.map(async (file) => [file, await readFile(file, "latin1")] as [string, string]))),
    ];
    return outputs.flatMap(([where, text]) => secrets.filter((secret) => text.includes(secret)).map(() => where));
  } finally {
    await rm(audit, { recursive: true, force: true });
  }
}

describe("No generated secret appears in any output", { timeout: 300_000 }, () => {
  it("npm run labs: stdout, stderr and every file the run writes are free of its passwords", async () => {
    const leaks = await secretLeaks([], {}, 0);
    expect(leaks, "places where a generated secret appeared (the secrets themselves are not shown)").toEqual([]);
  });

  it("a failing run (a broken MySQL through LABS_IMAGE_MAP) prints failures and container logs, and no password", async () => {
    const broken = `labs-secrets-probe/mysql-any-password:${process.pid}`;
    // As the broken-images script builds them: testcontainers' build would ask for Ryuk, which a machine without Docker
    // Hub cannot pull.
    await imageBuiltFrom(await dockerApi(), "images/broken/mysql-any-password", { tag: broken, labels: {} });
    try {
      const leaks = await secretLeaks(
        ["specs/lab-3-1-mysql.spec.ts", "specs/lab-3-1-2-dev-flow.spec.ts"],
        { LABS_IMAGE_MAP: JSON.stringify({ "mysql:5.7": broken }) },
        1,
      );
      expect(leaks, "places where a generated secret appeared (the secrets themselves are not shown)").toEqual([]);
    } finally {
      await (await dockerApi()).getImage(broken).remove({ force: true });
    }
  });
});
