import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";

export async function evidenceFile(name: string): Promise<string> {
  const dir = join("reports", inject("runId"));
  await mkdir(dir, { recursive: true });
  return join(dir, name);
}
