import { randomBytes } from "node:crypto";

// Per-run credentials: letters and digits only, so they survive shell, SQL and URL quoting untouched.
export function newSecret(bytes = 18): string {
  return randomBytes(bytes).toString("base64url").replace(/[-_]/g, "x");
}
