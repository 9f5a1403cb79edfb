// The bench's own readiness probe, independent of the suite's wait strategies: it asks the server itself, as a client
// would, through the port its container published on 127.0.0.1. docker-proxy accepts a connection on a published port
// even while nothing listens inside, so a bare TCP connect proves nothing: the probe waits for the server's own words.
import { get } from "node:http";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export const PROBE_EVERY_MS = 50;
const ATTEMPT_MS = 1_000;
const HOST = "127.0.0.1";

export type Probe = { kind: "mysql"; port: number } | { kind: "http"; port: number; path: string; needs?: string };

interface Published {
  image: string;
  standInFor?: string;
  ports: Record<string, { HostPort: string }[] | null | undefined>;
}

// What to ask a container, from the ports it published; undefined when it published none (ready at its start).
export function probeFor({ image, standInFor, ports }: Published): Probe | undefined {
  const bound = Object.entries(ports)
    .filter(([spec, bindings]) => spec.endsWith("/tcp") && bindings?.[0]?.HostPort)
    .map(([spec, bindings]) => ({ inside: Number.parseInt(spec, 10), port: Number(bindings![0]!.HostPort) }));
  const mysql = bound.find(({ inside }) => inside === 3306);
  if (mysql) return { kind: "mysql", port: mysql.port };
  const first = bound[0];
  if (!first) return undefined;
  const what = `${image} ${standInFor ?? ""}`;
  // cAdvisor answers / before its collectors run; /healthz says "ok" only once it can report containers.
  if (/cadvisor/.test(what)) return { kind: "http", port: first.port, path: "/healthz", needs: "ok" };
  if (/registry/.test(what)) return { kind: "http", port: first.port, path: "/v2/" };
  return { kind: "http", port: first.port, path: "/" };
}

// mysqld speaks first: a handshake packet whose payload starts with protocol version 10.
function mysqlGreets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST);
    let received = Buffer.alloc(0);
    const settle = (ready: boolean) => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(ATTEMPT_MS, () => settle(false));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 5) settle(received[4] === 10);
    });
    socket.on("error", () => settle(false));
    socket.on("close", () => settle(false));
  });
}

// Any status below 500 is a server that answers (a registry's /v2/ says 401 to a client without credentials).
function httpAnswers(port: number, path: string, needs?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get({ host: HOST, port, path, agent: false, timeout: ATTEMPT_MS }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString()));
      response.on("end", () =>
        resolve((response.statusCode ?? 500) < 500 && (needs === undefined || body.trim() === needs)),
      );
      response.on("error", () => resolve(false));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

// The wall-clock time of the first success, polling every PROBE_EVERY_MS; undefined once `gone` says the container
// ended (or was removed) without ever answering.
export async function firstAnswer(probe: Probe, gone: () => boolean): Promise<number | undefined> {
  while (!gone()) {
    const ready =
      probe.kind === "mysql" ? await mysqlGreets(probe.port) : await httpAnswers(probe.port, probe.path, probe.needs);
    if (ready) return Date.now();
    await sleep(PROBE_EVERY_MS);
  }
  return undefined;
}
