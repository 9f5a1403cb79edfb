// The bench's own readiness probe, independent of the suite's wait strategies: it asks the server itself, as a client
// would, through the port its container published on 127.0.0.1. docker-proxy accepts a connection on a published port
// even while nothing listens inside, so a bare TCP connect proves nothing: the probe waits for the server's own words.
import type { ContainerInspectInfo } from "dockerode";
import { get } from "node:http";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

const [EVERY_MS, ATTEMPT_MS, HOST] = [50, 1_000, "127.0.0.1"];

// mysqld speaks first: a handshake packet whose payload starts with protocol version 10.
const mysqlGreets = (port: number) =>
  new Promise<boolean>((resolve) => {
    const settle = (ready: boolean) => (socket.destroy(), resolve(ready));
    const socket = connect(port, HOST).setTimeout(ATTEMPT_MS, () => settle(false));
    let received = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 5) settle(received[4] === 10);
    });
    socket.on("error", () => settle(false)).on("close", () => settle(false));
  });

// Any status below 500 is a server that answers (a registry's /v2/ says 401 to a client without credentials).
const httpAnswers = (port: number, path: string, needs?: string) =>
  new Promise<boolean>((resolve) => {
    const request = get({ host: HOST, port, path, agent: false, timeout: ATTEMPT_MS }, (response) => {
      let body = "";
      response.on("data", (chunk: Buffer) => (body += chunk.toString())).on("error", () => resolve(false));
      response.on("end", () => resolve((response.statusCode ?? 500) < 500 && (!needs || body.trim() === needs)));
    });
    request.on("timeout", () => request.destroy()).on("error", () => resolve(false));
  });

// How to ask a container, from the ports it published; undefined for one that published none (ready at its start).
export function probeFor({ Config, NetworkSettings }: ContainerInspectInfo): (() => Promise<boolean>) | undefined {
  const bound = Object.entries(NetworkSettings.Ports ?? {}).flatMap(([spec, bindings]) =>
    spec.endsWith("/tcp") && bindings?.[0]?.HostPort
      ? [{ inside: Number.parseInt(spec, 10), port: Number(bindings[0].HostPort) }]
      : [],
  );
  const mysql = bound.find(({ inside }) => inside === 3306);
  if (mysql) return () => mysqlGreets(mysql.port);
  if (!bound[0]) return undefined;
  const [{ port }, what] = [bound[0], `${Config.Image} ${Config.Labels?.["labs.stand-in.for"] ?? ""}`];
  // cAdvisor answers / before its collectors run; /healthz says "ok" only once it can report containers.
  if (/cadvisor/.test(what)) return () => httpAnswers(port, "/healthz", "ok");
  return () => httpAnswers(port, /registry/.test(what) ? "/v2/" : "/");
}

// When it first answered, asking every 50 ms; undefined once `gone` says the container ended without an answer.
export async function firstAnswer(answers: () => Promise<boolean>, gone: () => boolean): Promise<number | undefined> {
  for (; !gone(); await sleep(EVERY_MS)) if (await answers()) return Date.now();
  return undefined;
}
