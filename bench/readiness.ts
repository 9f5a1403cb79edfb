// When a container of the run was ready: the end of its start-to-ready interval, the part of a lab's time that is
// the servers' own and not the suite's overhead.
import { readFileSync } from "node:fs";
import { engineJson, engineRequest } from "./engine.ts";

const LISTEN_POLL_MS = 10;
const LISTEN_LIMIT_MS = 60_000;

// A server's ready signal: its own log line where it has one; otherwise (nginx and cAdvisor log nothing when they
// start serving) the moment its listening socket appears in the container's network namespace, read on the host
// from /proc/<container pid>/net/tcp{,6}: no traffic to the server, and 10 ms resolution.
export interface ReadyRule {
  image: RegExp;
  log?: RegExp;
  listen?: number;
  what: string;
}

export const READY_RULES: ReadyRule[] = [
  { image: /mysql/, log: /port: 3306\b/, what: "log line with `port: 3306` (after the init server's `port: 0`)" },
  { image: /registry/, log: /listening on/, what: "log line `listening on`" },
  { image: /httpd/, log: /resuming normal operations/, what: "log line `resuming normal operations`" },
  { image: /visits/, log: /listening on/, what: "log line `visits listening on`" },
  { image: /nginx/, listen: 80, what: "a socket listening on :80 (polled every 10 ms)" },
  {
    image: /cadvisor/,
    listen: 8080,
    what: "a socket listening on :8080, opened once /healthz can answer (polled every 10 ms)",
  },
];

// A container of the run as the engine's events and its ready signal showed it (times in epoch milliseconds).
export interface Tracked {
  id: string;
  name: string;
  image: string;
  session?: string;
  runId?: string;
  createdAt?: number;
  startedAt?: number;
  diedAt?: number;
  readyAt?: number;
  rule?: ReadyRule;
  readiness: "log" | "listen" | "start" | "not seen";
}

interface ContainerInspect {
  Config: {
    Image: string;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    Tty: boolean;
    Labels: Record<string, string> | null;
  };
  State: { Pid: number };
}

export interface ImageInspect {
  Config: { Cmd: string[] | null; Entrypoint: string[] | null };
}

const sameCommand = (a: string[] | null, b: string[] | null) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

const parseTimestamp = (stamp: string) => {
  // The engine's RFC 3339 time with nanoseconds, 2026-11-27T18:37:05.813277314Z, in epoch milliseconds.
  const [, seconds = "", fraction = "0"] = stamp.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/) ?? [];
  return Date.parse(`${seconds}Z`) + Number(`0.${fraction}`) * 1000;
};

// Sets tracked.readyAt once the container's ready signal shows; a container without a server to wait for keeps its
// start as its ready time. imageConfig is the caller's cache of image configurations, asked once per image per run.
export async function awaitReady(
  tracked: Tracked,
  imageConfig: (ref: string) => Promise<ImageInspect | undefined>,
): Promise<void> {
  const info = await engineJson<ContainerInspect>(`/containers/${tracked.id}/json`);
  if (!info) return;
  const describedAs = `${info.Config.Image} ${info.Config.Labels?.["labs.stand-in.for"] ?? ""}`;
  const rule = READY_RULES.find(({ image }) => image.test(describedAs));
  const image = await imageConfig(info.Config.Image);
  // A server image told to run something else (a mysql image running `sleep infinity`) starts no server.
  const runsServer =
    image &&
    sameCommand(info.Config.Cmd, image.Config.Cmd) &&
    sameCommand(info.Config.Entrypoint, image.Config.Entrypoint);
  if (!rule || !runsServer) return;
  tracked.rule = rule;
  tracked.readiness = "not seen";
  if (rule.log) await readyLine(tracked, rule.log, info.Config.Tty);
  else if (rule.listen) await listening(tracked, info.State.Pid, rule.listen);
}

async function readyLine(tracked: Tracked, pattern: RegExp, tty: boolean): Promise<void> {
  // The engine's own timestamp of the line, not when it reached us: the stream may lag behind the container.
  const response = await engineRequest(`/containers/${tracked.id}/logs?follow=1&stdout=1&stderr=1&timestamps=1`);
  let buffer = Buffer.alloc(0);
  let text = "";
  await new Promise<void>((resolve) => {
    const check = (line: string) => {
      const space = line.indexOf(" ");
      if (space > 0 && pattern.test(line.slice(space + 1))) {
        tracked.readyAt = parseTimestamp(line.slice(0, space));
        tracked.readiness = "log";
        response.destroy();
        resolve();
        return true;
      }
      return false;
    };
    const lines = (chunk: string) => {
      const all = (text + chunk).split("\n");
      text = all.pop() ?? "";
      for (const line of all) if (check(line.replace(/\r$/, ""))) return;
    };
    response.on("data", (chunk: Buffer) => {
      if (tty) return lines(chunk.toString());
      // Without a TTY the engine multiplexes stdout and stderr in frames: 1 byte stream, 3 zero, 4 bytes size.
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 8) {
        const size = buffer.readUInt32BE(4);
        if (buffer.length < 8 + size) break;
        lines(buffer.subarray(8, 8 + size).toString());
        buffer = buffer.subarray(8 + size);
      }
    });
    response.on("end", resolve);
    response.on("close", resolve);
    response.on("error", () => resolve());
  });
}

async function listening(tracked: Tracked, pid: number, port: number): Promise<void> {
  // /proc/<pid>/net/tcp: "sl local_address rem_address st ...", the address as hex IP:PORT, st 0A = LISTEN.
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const listens = () =>
    ["tcp", "tcp6"].some((table) => {
      try {
        return readFileSync(`/proc/${pid}/net/${table}`, "utf8")
          .split("\n")
          .some((line) => {
            const [, local, , state] = line.trim().split(/\s+/);
            return state === "0A" && local?.endsWith(`:${hexPort}`);
          });
      } catch {
        return false;
      }
    });
  const deadline = Date.now() + LISTEN_LIMIT_MS;
  while (pid > 0 && Date.now() < deadline && tracked.diedAt === undefined) {
    if (listens()) {
      tracked.readyAt = Date.now();
      tracked.readiness = "listen";
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, LISTEN_POLL_MS));
  }
}
