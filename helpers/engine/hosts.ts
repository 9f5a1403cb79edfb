import Dockerode from "dockerode";
import type { Docker } from "./client.ts";

// Where a unix:// or tcp:// host is, in the terms of a socket connection (and of dockerode).
export function targetOf(host: string): { socketPath: string } | { host: string; port: number } {
  if (host.startsWith("unix://")) return { socketPath: host.slice("unix://".length) };
  const url = new URL(host.replace(/^tcp:/, "http:"));
  return { host: url.hostname, port: Number(url.port || 2375) };
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
