// An engine endpoint as DOCKER_HOST spells it. docker-modem (dockerode's transport) keeps a unix socket or a Windows
// named pipe as `socketPath` ("/var/run/docker.sock", "//./pipe/docker_engine"), a TCP or SSH engine as host and port.
export type Endpoint =
  | { kind: "unix"; path: string }
  | { kind: "npipe"; path: string }
  | { kind: "tcp"; host: string; port: number }
  | { kind: "ssh"; host: string; port: number; user: string };

// The pipe Docker Desktop and Docker Engine on Windows serve, and the one testcontainers falls back to on Windows.
export const DEFAULT_PIPE = "//./pipe/docker_engine";
const PIPE = /^[\\/]{2}[.?][\\/]pipe[\\/]/i;

export function parseEndpoint(spelled: string): Endpoint {
  if (spelled.startsWith("unix://")) return { kind: "unix", path: spelled.slice("unix://".length) };
  // Not through URL: it drops the "." segment of //./pipe/…, leaving //pipe/…, which Windows reads as a UNC share.
  if (spelled.startsWith("npipe://")) return { kind: "npipe", path: spelled.slice("npipe://".length) || DEFAULT_PIPE };
  const url = new URL(spelled.includes("://") ? spelled : `tcp://${spelled}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (url.protocol === "ssh:") return { kind: "ssh", host, port: Number(url.port || 22), user: url.username };
  if (url.protocol !== "tcp:" && url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`${spelled} is no engine endpoint: use unix://, npipe://, tcp:// or ssh://`);
  return { kind: "tcp", host, port: Number(url.port || (url.protocol === "https:" ? 2376 : 2375)) };
}

const hostPart = (host: string) => (host.includes(":") ? `[${host}]` : host);

export function formatEndpoint(endpoint: Endpoint): string {
  switch (endpoint.kind) {
    case "unix":
      return `unix://${endpoint.path}`;
    case "npipe":
      return `npipe://${endpoint.path.replaceAll("\\", "/")}`;
    case "tcp":
      return `tcp://${hostPart(endpoint.host)}:${endpoint.port}`;
    case "ssh":
      return `ssh://${endpoint.user ? `${endpoint.user}@` : ""}${hostPart(endpoint.host)}:${endpoint.port}`;
  }
}

export interface ModemOptions {
  socketPath?: string;
  host?: string;
  port?: string | number;
  protocol?: string;
  username?: string;
}

// The endpoint a dockerode client talks to, from its modem's options.
export function endpointOfModem(modem: ModemOptions): Endpoint {
  if (modem.socketPath) return { kind: PIPE.test(modem.socketPath) ? "npipe" : "unix", path: modem.socketPath };
  const host = modem.host ?? "localhost";
  if (modem.protocol === "ssh")
    return { kind: "ssh", host, port: Number(modem.port || 22), user: modem.username ?? "" };
  return { kind: "tcp", host, port: Number(modem.port || (modem.protocol === "https" ? 2376 : 2375)) };
}

// Node opens a named pipe by its Win32 name (\\.\pipe\docker_engine) and a unix socket by its path.
export const win32PipeName = (path: string) => path.replaceAll("/", "\\");

export function connectOptions(endpoint: Endpoint): { path: string } | { host: string; port: number } {
  if (endpoint.kind === "unix") return { path: endpoint.path };
  if (endpoint.kind === "npipe") return { path: win32PipeName(endpoint.path) };
  return { host: endpoint.host, port: endpoint.port };
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|::1|0:0:0:0:0:0:0:1|0\.0\.0\.0)$/i;

// An engine on another machine: a TCP or SSH endpoint whose host is not this machine's loopback. Its published ports,
// its sockets and its files are that machine's, not the runner's.
export function isRemote(endpoint: Endpoint): boolean {
  return (endpoint.kind === "tcp" || endpoint.kind === "ssh") && !LOOPBACK_HOST.test(endpoint.host);
}
