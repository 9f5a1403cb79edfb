import { randomBytes } from "node:crypto";
import { MySqlContainer } from "@testcontainers/mysql";
import { GenericContainer, Wait } from "testcontainers";
import { inject } from "vitest";
import { dockerApi } from "./docker.ts";
import { labelsFor } from "./run.ts";

export const LOOPBACK = "127.0.0.1";

export function runLabels(): Record<string, string> {
  return labelsFor(inject("runId"));
}

export function labelInstruction(): string {
  return `LABEL ${Object.entries(runLabels())
    .map(([key, value]) => `${key}="${value}"`)
    .join(" ")}`;
}

const TAIL_LINES = 20;
const tails: LogTail[] = [];

// A failed step shows the last lines its containers logged, even those of a container already removed.
class LogTail {
  lines: string[] = [];
  name: string;
  constructor(name: string) {
    this.name = name;
    tails.push(this);
  }
  follow(stream: NodeJS.ReadableStream): void {
    let partial = "";
    stream.on("data", (chunk: Buffer | string) => {
      const text = partial + chunk.toString();
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      this.lines.push(...lines.filter((line) => line.trim() !== ""));
      this.lines.splice(0, Math.max(0, this.lines.length - TAIL_LINES));
    });
  }
}

export function recentContainerLogs(): { container: string; lines: string[] }[] {
  return tails
    .filter(({ lines }) => lines.length > 0)
    .map(({ name, lines }) => ({ container: name, lines: [...lines] }));
}

// The book's `-p 8001:80` publishes on every interface, which would expose a lab's database or the host's
// metrics to the network; every container of a run publishes on loopback only and carries the run's label.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function forThisRun<Base extends new (...args: any[]) => GenericContainer>(base: Base): Base {
  return class extends base {
    private logs = new LogTail(String(this.createOpts.Image));

    protected override async beforeContainerCreated(): Promise<void> {
      for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
        for (const binding of bindings as { HostIp?: string }[]) binding.HostIp = LOOPBACK;
      }
      this.withLabels(runLabels());
      this.logs.name = this.createOpts.name ?? this.logs.name;
      this.withLogConsumer((stream) => this.logs.follow(stream));
    }
  } as Base;
}

export const LabContainer = forThisRun(GenericContainer);
export const LabMySqlContainer = forThisRun(MySqlContainer);

// Both MySQL 5.7 and MariaDB log "port: 3306" once, when the real server (not the init one) is up; waiting for it
// avoids testcontainers' default port check, which polls with several execs into the initialising server.
export function labMySql(image: string) {
  return new LabMySqlContainer(image).withWaitStrategy(Wait.forLogMessage(/port: 3306/));
}

// Any HTTP answer means the server listens; 100 ms between tries instead of testcontainers' 1 s default.
export function httpAnswers(path: string, port: number) {
  return Wait.forHttp(path, port)
    .forStatusCodeMatching(() => true)
    .withReadTimeout(100);
}

export function nameForRun(bookName: string): string {
  return `${bookName}-${inject("runId")}`;
}

export interface FixtureHooks {
  onCleanup: (cleanup: () => void | PromiseLike<void>) => void;
}

// For `test.extend("network", { scope: "file" }, networkFixture)`: a user-defined network the steps share.
export async function networkFixture({}, { onCleanup }: FixtureHooks) {
  const network = await labNetwork();
  onCleanup(() => network[Symbol.asyncDispose]());
  return network;
}

export async function labNetwork(): Promise<{ name: string; id: string } & AsyncDisposable> {
  const docker = await dockerApi();
  const name = nameForRun(`labs-net-${randomBytes(3).toString("hex")}`);
  const network = await docker.createNetwork({ Name: name, Labels: runLabels(), CheckDuplicate: true });
  return { name, id: network.id, [Symbol.asyncDispose]: () => network.remove() };
}

export type RawContainer = Awaited<ReturnType<Awaited<ReturnType<typeof dockerApi>>["createContainer"]>> &
  AsyncDisposable;

// For what testcontainers has no options for (TTY, stdin, attach): a plain engine container, labelled like the rest.
export async function createRawContainer(
  options: Parameters<Awaited<ReturnType<typeof dockerApi>>["createContainer"]>[0],
): Promise<RawContainer> {
  const docker = await dockerApi();
  const container = await docker.createContainer({ ...options, Labels: { ...options.Labels, ...runLabels() } });
  return Object.assign(container, {
    [Symbol.asyncDispose]: () => container.remove({ force: true, v: true }),
  });
}
