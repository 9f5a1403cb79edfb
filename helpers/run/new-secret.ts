import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";

// Per-run credentials: letters and digits only, so they survive shell, SQL and URL quoting untouched.
// LABS_SECRETS_AUDIT_FILE is set only by the secrets test, which needs the values to prove they leak nowhere.
export function newSecret(bytes = 18): string {
  const secret = randomBytes(bytes).toString("base64url").replace(/[-_]/g, "x");
  if (process.env.LABS_SECRETS_AUDIT_FILE)
    appendFileSync(process.env.LABS_SECRETS_AUDIT_FILE, `${secret}\n`, { mode: 0o600 });
  return secret;
}
