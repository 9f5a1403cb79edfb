import { spawn } from "node:child_process";
import { join } from "node:path";

// Detached, so that it outlives the runner however the runner ends.
export function startGuardian(runId: string): void {
  const guardian = spawn(process.execPath, [join(import.meta.dirname, "guardian.ts"), runId], {
    detached: true,
    stdio: "ignore",
  });
  guardian.unref();
}
