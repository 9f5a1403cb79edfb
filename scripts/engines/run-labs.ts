// One run of the labs as a child process, against whichever engine `env` names: the labs reporter for people (its
// output passes through, its report folder is written as usual) and the matrix reporter for the script that asked.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vitestCommand } from "../../helpers/self-test/child-run.ts";
import type { MatrixResult } from "../../helpers/vitest/matrix-reporter.ts";

export interface LabsRun extends MatrixResult {
  exitCode: number | null;
  output: string;
  seconds: number;
}

const REPORTERS = ["--reporter=./helpers/vitest/labs-reporter.ts", "--reporter=./helpers/vitest/matrix-reporter.ts"];

/** `filters` are spec file name filters, as `npm run labs -- 3-3` takes them; `signal` ends the run (SIGTERM). */
export async function runLabs(env: NodeJS.ProcessEnv, filters: string[], signal?: AbortSignal): Promise<LabsRun> {
  const dir = await mkdtemp(join(tmpdir(), "labs-matrix-"));
  const out = join(dir, "result.json");
  const started = performance.now();
  try {
    const child = spawn(process.execPath, vitestCommand("--project", "labs", ...REPORTERS, ...filters), {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env, LABS_MATRIX_OUT: out },
      ...(signal ? { signal, killSignal: "SIGTERM" as const } : {}),
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (process.stdout.write(chunk), (output += chunk.toString())));
    child.stderr.on("data", (chunk: Buffer) => (process.stderr.write(chunk), (output += chunk.toString())));
    child.on("error", () => {}); // an abort: the exit below still comes
    const [exitCode] = (await once(child, "close")) as [number | null];
    // No file: the run ended before its reporters did (a setup that stopped, a signal); its output says why.
    const text = await readFile(out, "utf8").catch(() => "");
    const result: MatrixResult = text ? JSON.parse(text) : { steps: [], errors: [] };
    return { ...result, exitCode, output, seconds: (performance.now() - started) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The line a run that stopped before any step left last: the global setup's one-line reason. */
export function lastLine(run: LabsRun): string {
  const lines = run.output.split("\n").map((line) => line.trim());
  return lines.filter(Boolean).at(-1) ?? `exit ${run.exitCode}`;
}
