import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

export const LOOPBACK = "127.0.0.1";

// An engine on another machine: a tcp:// or ssh:// endpoint whose host is not this machine's loopback.
export function isRemoteEndpoint(endpoint: string): boolean {
  if (!/^(tcp|ssh|https?):\/\//.test(endpoint)) return false;
  const host = new URL(endpoint.replace(/^tcp:/, "http:")).hostname.replace(/^\[|\]$/g, "");
  return !(host === "localhost" || host === "::1" || host.startsWith("127."));
}

// Where the runner reaches what the engine publishes. The engine's loopback is the runner's only when both share a
// machine; an engine elsewhere publishes on its own address, the one the runner already talks to.
export async function publishAddressFor(endpoint: string): Promise<string> {
  if (!isRemoteEndpoint(endpoint)) return LOOPBACK;
  const host = new URL(endpoint.replace(/^(tcp|ssh):/, "http:")).hostname;
  return isIP(host) ? host : (await lookup(host, { family: 4 })).address;
}
