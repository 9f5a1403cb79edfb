import { existsSync, readFileSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { getContainerRuntimeClient } from "testcontainers";
import {
  connectOptions,
  DEFAULT_PIPE,
  endpointOfModem,
  formatEndpoint,
  isRemote,
  parseEndpoint,
  win32PipeName,
  type Endpoint,
} from "./endpoint.ts";
import { LOOPBACK } from "./reach.ts";

// The one way into the engine for the whole suite: the client testcontainers builds, so that its discovery
// (DOCKER_HOST, ~/.testcontainers.properties, rootless and Docker Desktop sockets, TLS) is the suite's too.
export type EngineClient = Awaited<ReturnType<typeof getContainerRuntimeClient>>;
export type Docker = EngineClient["container"]["dockerode"];

const PREFLIGHT_MS = 5_000;

export class EngineUnreachable extends Error {}

function configuredHost(env: NodeJS.ProcessEnv): { where: string; host: string } | undefined {
  if (env.DOCKER_HOST) return { where: "DOCKER_HOST", host: env.DOCKER_HOST };
  const file = join(homedir(), ".testcontainers.properties");
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const host = text.match(/^\s*docker\.host\s*[=:]\s*(\S+)/m)?.[1];
  return host ? { where: `docker.host in ${file}`, host } : undefined;
}

function placesLooked(env: NodeJS.ProcessEnv): string {
  const configured = configuredHost(env);
  const sockets = process.platform === "win32" ? [win32PipeName(DEFAULT_PIPE)] : unixSockets(env);
  const present = sockets.filter((path) => existsSync(path));
  return [
    configured
      ? `${configured.where}=${configured.host}`
      : "DOCKER_HOST (not set), ~/.testcontainers.properties (no docker.host)",
    present.length ? `sockets ${present.join(", ")} (none answered)` : `sockets ${sockets.join(", ")} (none there)`,
  ].join("; ");
}

function unixSockets(env: NodeJS.ProcessEnv) {
  return [
    "/var/run/docker.sock",
    ...(env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, "docker.sock")] : []),
    join(homedir(), ".docker", "run", "docker.sock"),
    join(homedir(), ".docker", "desktop", "docker.sock"),
    `/run/user/${userInfo().uid}/docker.sock`,
  ];
}

// Podman serves the Docker API too, and names itself among the version's components.
export function productOf(version: { Components?: { Name: string }[] }): "Docker" | "Podman" {
  return (version.Components ?? []).some(({ Name }) => Name === "Podman Engine") ? "Podman" : "Docker";
}

// Podman 4.3 lists a port the image exposes but nothing publishes in HostConfig.PortBindings, as null; Docker and
// Podman 4.4 on leave it out (containers/podman#16818). testcontainers waits for every port listed there to be bound
// (testcontainers-node#1108), so on Podman 4.3 a container that publishes none of its image's ports never started.
// Fitted on the class, not the client: lookups that start together each make a client of their own.
const fitted = new WeakSet<object>();
function withoutUnpublishedPorts(client: EngineClient): void {
  const containers = Object.getPrototypeOf(client.container) as Pick<EngineClient["container"], "inspect">;
  if (fitted.has(containers)) return;
  fitted.add(containers);
  const inspect = containers.inspect;
  containers.inspect = async function (this: EngineClient["container"], container) {
    const info = await inspect.call(this, container);
    const bindings = Object.entries((info.HostConfig?.PortBindings ?? {}) as Record<string, unknown>);
    if (info.HostConfig)
      info.HostConfig.PortBindings = Object.fromEntries(bindings.filter(([, bound]) => bound !== null));
    return info;
  };
}

export function endpointOf(docker: Docker): string {
  return formatEndpoint(endpointOfModem(docker.modem as Parameters<typeof endpointOfModem>[0]));
}

function timeout(ms: number): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms).unref());
}

let found: Promise<EngineClient> | undefined;

// Whether anything listens where the user pointed: asked before testcontainers is, because testcontainers falls back
// to the default socket when the named engine does not answer, and keeps that client for the life of the process.
function listening(host: string): Promise<string | undefined> {
  let endpoint: Endpoint;
  try {
    endpoint = parseEndpoint(host);
  } catch (error) {
    return Promise.resolve((error as Error).message);
  }
  return new Promise((resolve) => {
    const socket = connect(connectOptions(endpoint))
      .once("connect", () => (socket.destroy(), resolve(undefined)))
      .once("error", (error: NodeJS.ErrnoException) =>
        resolve(
          error.code === "ENOENT"
            ? `no ${endpoint.kind === "npipe" ? "pipe" : "socket"} there`
            : (error.code ?? error.message),
        ),
      )
      .setTimeout(PREFLIGHT_MS, () => (socket.destroy(), resolve("no answer in time")));
  });
}

async function discover(env: NodeJS.ProcessEnv): Promise<EngineClient> {
  const named = configuredHost(env);
  const silent = named && (await listening(named.host));
  if (named && silent) {
    throw new EngineUnreachable(
      `No Docker engine answered at ${named.where}=${named.host}: ${silent}. ` +
        `Start that engine, or unset ${named.where.split(" ")[0]} to use the default one.`,
    );
  }
  let client: EngineClient;
  try {
    client = await Promise.race([getContainerRuntimeClient(), timeout(PREFLIGHT_MS)]);
  } catch (error) {
    throw new EngineUnreachable(
      `No Docker engine answered where testcontainers looks (${placesLooked(env)}): ${(error as Error).message}. ` +
        "Start one (Docker Desktop, `colima start`, or `sudo dockerd &` on Linux) or point DOCKER_HOST at a running engine.",
    );
  }
  const endpoint = endpointOf(client.container.dockerode);
  if (named && formatEndpoint(parseEndpoint(named.host.replace(/\/+$/, ""))) !== endpoint) {
    throw new EngineUnreachable(
      `No Docker engine answered at ${named.where}=${named.host} (testcontainers would fall back to ${endpoint}): ` +
        `start that engine, or unset ${named.where.split(" ")[0]} to use ${endpoint}.`,
    );
  }
  if (productOf(await client.container.dockerode.version()) === "Podman") withoutUnpublishedPorts(client);
  return client;
}

// testcontainers' getHost() answers "localhost" for a local socket (which may resolve to ::1) or, inside a container,
// the bridge's gateway: a run reaches a local engine's published ports on 127.0.0.1 only. Set by the run's own process
// before its first client, never by a library call, so that a script's child runs inherit nothing it did not choose.
export function pinLocalEngineHost(env: NodeJS.ProcessEnv = process.env): void {
  const named = configuredHost(env);
  if (!named || !isRemote(parseEndpoint(named.host))) env.TESTCONTAINERS_HOST_OVERRIDE ??= LOOPBACK;
}

export function engineClient(env: NodeJS.ProcessEnv = process.env): Promise<EngineClient> {
  found ??= discover(env).catch((error: unknown) => {
    found = undefined;
    throw error;
  });
  return found;
}

// testcontainers has no API for image tags, history, inspect, events or TTY options: its dockerode client does.
export async function dockerApi(): Promise<Docker> {
  return (await engineClient()).container.dockerode;
}
