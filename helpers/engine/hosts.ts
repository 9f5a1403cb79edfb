import Dockerode from "dockerode";
import type { Docker } from "./client.ts";
import { parseEndpoint } from "./endpoint.ts";

// Where a unix://, npipe://, tcp:// or ssh:// host is, in dockerode's terms.
export function targetOf(
  host: string,
): { socketPath: string } | { host: string; port: number; protocol?: "ssh"; username?: string } {
  const endpoint = parseEndpoint(host);
  if (endpoint.kind === "unix" || endpoint.kind === "npipe") return { socketPath: endpoint.path };
  if (endpoint.kind === "ssh")
    return { host: endpoint.host, port: endpoint.port, protocol: "ssh", username: endpoint.user };
  return { host: endpoint.host, port: endpoint.port };
}

// Whether an engine answers its API at `host`: a socket file proves nothing, since a killed engine leaves its socket
// behind. For whoever starts an engine and waits for it, before any client is kept.
export function engineAnswers(host: string, timeoutMs: number): Promise<boolean> {
  return new Dockerode({ ...targetOf(host), timeout: timeoutMs }).ping().then(
    () => true,
    () => false,
  );
}

// An engine other than the one the run uses (a private engine a reliability spec started): same client, named host.
export function dockerApiAt(host: string): Docker {
  return new Dockerode(targetOf(host)) as unknown as Docker;
}
