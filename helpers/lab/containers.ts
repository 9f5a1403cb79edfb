import { randomBytes } from "node:crypto";
import { posix, relative } from "node:path";
import { MySqlContainer } from "@testcontainers/mysql";
import { GenericContainer, Wait } from "testcontainers";
import { expect, inject } from "vitest";
import { dockerApi, type Docker } from "../engine/client.ts";
import { unlessEngineLost } from "../engine/lost.ts";
import { forThisRun, LOOPBACK } from "../run/for-this-run.ts";
import { labelsFor, RUN_LABEL, SPEC_LABEL } from "../run/identity.ts";

export { LOOPBACK };

export function runLabels(): Record<string, string> {
  const { testPath } = expect.getState();
  return { ...labelsFor(inject("runId")), ...(testPath ? { [SPEC_LABEL]: relative(process.cwd(), testPath) } : {}) };
}

// What `docker ps --filter label=…` needs to list this run's containers and nobody else's.
export function runLabelFilter(): string {
  return `${RUN_LABEL}=${inject("runId")}`;
}

export function labelInstruction(extra: Record<string, string> = {}): string {
  return `LABEL ${Object.entries({ ...runLabels(), ...extra })
    .map(([key, value]) => `${key}="${value}"`)
    .join(" ")}`;
}

export const LabContainer = forThisRun(GenericContainer, runLabels);
export const LabMySqlContainer = forThisRun(MySqlContainer, runLabels);

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

interface Stoppable {
  stop(): Promise<unknown>;
}

// Vitest tears a file's fixtures down one at a time, and each container's stop waits ~0.15 s on the engine: the first
// container fixture torn down stops all of the file's at once (a worker runs one file at a time), and each waits for
// its own. What is torn down before it (a step's page, a sampler) still goes first, and a network after them.
const runningInFile = new Set<Stoppable>();
const stopping = new WeakMap<Stoppable, Promise<void>>();

function stopWithTheFile(own: Stoppable): Promise<void> {
  for (const container of runningInFile) {
    const stopped = container.stop().then(() => undefined, unlessEngineLost);
    // Its own fixture's teardown reports a failure; until that awaits it, the failure is not unhandled.
    stopped.catch(() => undefined);
    stopping.set(container, stopped);
  }
  runningInFile.clear();
  return stopping.get(own) ?? Promise.resolve();
}

// For a file-scoped fixture: the container starts when the lab first needs it and stops when the file ends. With the
// engine gone the run has already said so in one line; the guardian removes the container once it is back.
export async function startForFile<Started extends Stoppable>(
  container: { start(): Promise<Started> },
  { onCleanup }: FixtureHooks,
): Promise<Started> {
  const started = await container.start();
  runningInFile.add(started);
  onCleanup(() => stopWithTheFile(started));
  return started;
}

export type RawContainer = Awaited<ReturnType<Docker["createContainer"]>> & AsyncDisposable;

// For what testcontainers has no options for (TTY, stdin, attach): a plain engine container, labelled like the rest.
export async function createRawContainer(options: Parameters<Docker["createContainer"]>[0]): Promise<RawContainer> {
  const docker = await dockerApi();
  const container = await docker.createContainer({ ...options, Labels: { ...options.Labels, ...runLabels() } });
  return Object.assign(container, {
    [Symbol.asyncDispose]: () => container.remove({ force: true, v: true }).catch(unlessEngineLost),
  });
}

export interface EngineHostFile extends AsyncDisposable {
  // Where the file is on the engine's host, as the engine reports its volume's mountpoint.
  path: string;
  content: string;
}

// A file on the engine's host, which may be another machine or a VM, that only this run wrote: in a volume of the
// run's own, written by a container of `image` (its `sh`), found where the engine says it keeps that volume.
export async function fileOnEngineHost(image: string, content: string): Promise<EngineHostFile> {
  const docker = await dockerApi();
  const name = nameForRun(`labs-host-file-${randomBytes(3).toString("hex")}`);
  const volume = await docker.createVolume({ Name: name, Labels: runLabels() });
  const removed = () => docker.getVolume(name).remove().catch(unlessEngineLost);
  try {
    await using writer = await createRawContainer({
      Image: image,
      Entrypoint: ["sh", "-c", 'printf %s "$CONTENT" > /volume/file'],
      Env: [`CONTENT=${content}`],
      HostConfig: { Mounts: [{ Type: "volume", Source: name, Target: "/volume" }] },
    });
    await writer.start();
    expect(await writer.wait(), `writing ${name}/file`).toMatchObject({ StatusCode: 0 });
    const { Mountpoint } = (await volume.inspect()) as { Mountpoint: string };
    return { path: posix.join(Mountpoint, "file"), content, [Symbol.asyncDispose]: removed };
  } catch (error) {
    await removed();
    throw error;
  }
}
