// Child processes of the benchmark: the timed runs (the suite, bench/labs.sh) and short docker CLI queries.
import { spawn } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..");

export interface Finished {
  code: number;
  wallMs: number;
  // Wall-clock (epoch ms) ends beside the monotonic duration: to compare with the reporter's and the engine's times.
  spawnedAt: number;
  exitedAt: number;
  stdout: string;
  stderr: string;
}

// onSpawn lets the memory sampler start on the child's pid; onStdout lets a watcher pick up what the child prints
// (the run id) while it still runs.
export function run(
  command: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  onSpawn?: (pid: number) => void,
  onStdout?: (stdout: string) => void,
) {
  return new Promise<Finished>((resolve, reject) => {
    const started = performance.now();
    const spawnedAt = Date.now();
    const child = spawn(command, argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout);
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    if (child.pid !== undefined) onSpawn?.(child.pid);
    child.on("close", (code) =>
      resolve({
        code: code ?? 1,
        wallMs: performance.now() - started,
        spawnedAt,
        exitedAt: Date.now(),
        stdout,
        stderr,
      }),
    );
  });
}

// A command's trimmed stdout, or "" when it fails: callers treat "" as "no answer" (no engine, no such image).
export async function capture(command: string, argv: string[]): Promise<string> {
  const { code, stdout } = await run(command, argv, process.env);
  return code === 0 ? stdout.trim() : "";
}

export const tail = (text: string, lines = 40) => text.trimEnd().split("\n").slice(-lines).join("\n");
