import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { isAlive } from "../util/processes.ts";

export const RUN_LABEL = "labs.run";
export const HOST_LABEL = "labs.run.host";
// The spec file that created it: `docker ps` tells a lab's containers apart, and so does the bench, whose workers run
// several files each.
export const SPEC_LABEL = "labs.spec";

// The global setup's "engine: … run <id>" line: how a parent process learns a child run's id.
export const RUN_LINE = /^engine: .* run (\S+)\n/m;

// The run id names the process that owns the run, so a later run can tell a dead run's leftovers from a live one's.
export function newRunId(pid = process.pid): string {
  return `${Date.now().toString(36)}-${pid}-${randomBytes(2).toString("hex")}`;
}

export const runOwnerPid = (runId: string) => Number(runId.split("-")[1]);

export function labelsFor(runId: string): Record<string, string> {
  return { [RUN_LABEL]: runId, [HOST_LABEL]: hostname() };
}

export function isRunAlive(runId: string, host: string | undefined): boolean {
  if (host !== undefined && host !== hostname()) return true;
  const pid = runOwnerPid(runId);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid);
}
