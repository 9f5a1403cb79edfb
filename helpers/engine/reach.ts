import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { isRemote, parseEndpoint } from "./endpoint.ts";

export const LOOPBACK = "127.0.0.1";

// Where the runner reaches what the engine publishes. The engine's loopback is the runner's only when both share a
// machine; an engine elsewhere publishes on its own address, the one the runner already talks to.
export async function publishAddressFor(endpoint: string): Promise<string> {
  const parsed = parseEndpoint(endpoint);
  if (!isRemote(parsed) || !("host" in parsed)) return LOOPBACK;
  return isIP(parsed.host) ? parsed.host : (await lookup(parsed.host, { family: 4 })).address;
}
