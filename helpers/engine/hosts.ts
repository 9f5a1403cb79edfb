import { readFileSync } from "node:fs";
import { join } from "node:path";
import Dockerode from "dockerode";
import type { Docker } from "./client.ts";
import { parseEndpoint } from "./endpoint.ts";

// An engine named the way the docker CLI and testcontainers name one: DOCKER_HOST, with DOCKER_CERT_PATH holding
// ca.pem, cert.pem and key.pem where the engine wants TLS.
export interface EngineAddress {
  DOCKER_HOST: string;
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
  // Where the engine's socket is on its own machine, where that is not /var/run/docker.sock (testcontainers' setting).
  TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE?: string;
}

// Where a unix://, npipe://, tcp:// or ssh:// host is, in dockerode's terms.
export function targetOf(host: string) {
  const endpoint = parseEndpoint(host);
  if (endpoint.kind === "unix" || endpoint.kind === "npipe") return { socketPath: endpoint.path };
  if (endpoint.kind === "ssh")
    return { host: endpoint.host, port: endpoint.port, protocol: "ssh" as const, username: endpoint.user };
  return { host: endpoint.host, port: endpoint.port };
}

function clientOptions(at: string | EngineAddress): Dockerode.DockerOptions {
  const { DOCKER_HOST, DOCKER_CERT_PATH } = typeof at === "string" ? { DOCKER_HOST: at } : at;
  const target = targetOf(DOCKER_HOST);
  if (!DOCKER_CERT_PATH || "socketPath" in target) return target;
  const pem = (file: string) => readFileSync(join(DOCKER_CERT_PATH, file));
  return { ...target, protocol: "https", ca: pem("ca.pem"), cert: pem("cert.pem"), key: pem("key.pem") };
}

// Whether an engine answers its API: a socket file proves nothing, since a killed engine leaves its socket behind.
// For whoever starts an engine and waits for it, before any client is kept.
export function engineAnswers(at: string | EngineAddress, timeoutMs: number): Promise<boolean> {
  return new Dockerode({ ...clientOptions(at), timeout: timeoutMs }).ping().then(
    () => true,
    () => false,
  );
}

// An engine other than the one the run uses (a private engine a spec or script started): same client, named host.
export function dockerApiAt(at: string | EngineAddress): Docker {
  return new Dockerode(clientOptions(at)) as unknown as Docker;
}
