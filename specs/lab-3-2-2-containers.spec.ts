import { setTimeout as sleep } from "node:timers/promises";
import { PassThrough, type Duplex } from "node:stream";
import { describe, expect, test } from "vitest";
import { createRawContainer, nameForRun, runLabelFilter, type RawContainer } from "../helpers/lab/containers.ts";
import { dockerApi } from "../helpers/lab/engine.ts";
import { labImage } from "../helpers/lab/images.ts";

const debian = labImage("debian:bullseye");
const python = labImage("python:3.9-slim-bullseye");
const PROMPT = /root@[\w-]+:\/# $/;
const QUIET_WINDOW_MS = 500;
const INTERACTIVE_TTY = { Tty: true, OpenStdin: true, AttachStdin: true, AttachStdout: true, AttachStderr: true };
const EXIT_WITHIN_MS = 15_000;

type CreateOptions = Parameters<typeof createRawContainer>[0];

const lab = test.extend("containers", { scope: "file" }, async ({}, { onCleanup }) => {
  const made = new Map<string, RawContainer>();
  onCleanup(async () => {
    await Promise.all([...made.values()].map((container) => container[Symbol.asyncDispose]()));
  });
  return {
    async create(role: string, options: CreateOptions): Promise<RawContainer> {
      const container = await createRawContainer({ name: nameForRun(role), ...options });
      made.set(role, container);
      return container;
    },
    get(role: string): RawContainer {
      const container = made.get(role);
      if (!container) throw new Error(`no container "${role}" was created by an earlier step`);
      return container;
    },
  };
});

interface Terminal {
  stream: Duplex;
  output: () => string;
}

async function attach(container: RawContainer, { tty }: { tty: boolean }): Promise<Terminal> {
  const docker = await dockerApi();
  const stream = (await container.attach({
    stream: true,
    stdin: true,
    stdout: true,
    stderr: true,
    hijack: true,
  })) as Duplex;
  let text = "";
  const sink = new PassThrough().on("data", (chunk: Buffer) => (text += chunk.toString()));
  if (tty) stream.on("data", (chunk: Buffer) => sink.write(chunk));
  else docker.modem.demuxStream(stream, sink, sink);
  return { stream, output: () => text };
}

async function runOutput(container: RawContainer, tty: boolean): Promise<string> {
  const docker = await dockerApi();
  const logs = await container.logs({ stdout: true, stderr: true, follow: false });
  if (tty) return logs.toString();
  const sink = new PassThrough();
  let text = "";
  sink.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const stream = new PassThrough();
  docker.modem.demuxStream(stream, sink, sink);
  stream.end(logs);
  await new Promise((resolve) => stream.on("end", resolve));
  return text;
}

const isRunning = async (container: RawContainer) => (await container.inspect()).State.Running;

describe("Lab 3.2.2: container commands", { timeout: 60_000 }, () => {
  lab("docker run debian echo ... = docker create + docker start + the command", async ({ containers }) => {
    const container = await containers.create("run", { Image: debian.ref, Cmd: ["echo", "hello from docker run"] });
    expect((await container.inspect()).State.Status).toBe("created");
    expect((await container.inspect()).Image).toBe(debian.id);
    await container.start();
    expect(await container.wait()).toMatchObject({ StatusCode: 0 });
    expect(await runOutput(container, false)).toBe("hello from docker run\n");
    const { State } = await container.inspect();
    expect(State.Status).toBe("exited");
    expect(Date.parse(State.StartedAt)).toBeGreaterThan(0);
  });

  lab("docker run -i debian bash", async ({ containers }) => {
    const container = await containers.create("i", {
      Image: debian.ref,
      Cmd: ["bash"],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const terminal = await attach(container, { tty: false });
    await container.start();
    terminal.stream.write("echo fed-through-stdin; exit\n");
    expect(await container.wait()).toMatchObject({ StatusCode: 0 });
    await expect.poll(() => terminal.output()).toBe("fed-through-stdin\n");
    expect(terminal.output()).not.toMatch(/[#$] /);
  });

  lab("docker run -t debian bash", async ({ containers }) => {
    const container = await containers.create("t", { Image: debian.ref, Cmd: ["bash"], Tty: true, OpenStdin: false });
    expect((await container.inspect()).Config).toMatchObject({ Tty: true, OpenStdin: false });
    const terminal = await attach(container, { tty: true });
    await container.start();
    await expect.poll(() => terminal.output(), { timeout: 10_000 }).toMatch(PROMPT);
    terminal.stream.write("echo reached-the-shell\n");
    // Proving that input never arrives takes a bounded wait: nothing can be observed to happen.
    await sleep(QUIET_WINDOW_MS);
    expect(terminal.output()).not.toContain("reached-the-shell");
    expect(await isRunning(container)).toBe(true);
    terminal.stream.destroy();
  });

  lab("docker run -it debian bash", async ({ containers }) => {
    const container = await containers.create("it", {
      Image: debian.ref,
      Cmd: ["bash"],
      Hostname: "lab-it",
      ...INTERACTIVE_TTY,
    });
    const terminal = await attach(container, { tty: true });
    await container.start();
    await expect.poll(() => terminal.output(), { timeout: 10_000 }).toMatch(/root@lab-it:\/# $/);
    terminal.stream.write('. /etc/os-release; echo "typed: $ID"; exit\n');
    expect(await container.wait()).toMatchObject({ StatusCode: 0 });
    expect(terminal.output()).toMatch(/typed: \w+/);
  });

  lab("docker run -d python", async ({ containers }) => {
    const container = await containers.create("d", { Image: python.ref });
    await container.start();
    const exited = await Promise.race([container.wait(), sleep(EXIT_WITHIN_MS, "still running")]);
    expect(exited, `docker run -d python exits within ${EXIT_WITHIN_MS} ms`).toMatchObject({ StatusCode: 0 });
    expect((await container.inspect()).State).toMatchObject({ Status: "exited", ExitCode: 0 });
  });

  lab("docker run -itd python", async ({ containers }) => {
    const container = await containers.create("itd", { Image: python.ref, Tty: true, OpenStdin: true });
    await container.start();
    await expect.poll(() => runOutput(container, true), { timeout: 10_000 }).toMatch(/^Python 3\./);
    expect(await isRunning(container)).toBe(true);
    const terminal = await attach(container, { tty: true });
    terminal.stream.write("print(6 * 7)\n");
    await expect.poll(() => terminal.output(), { timeout: 10_000 }).toMatch(/^42\r?$/m);
    terminal.stream.destroy();
    expect(await isRunning(container)).toBe(true);
  });

  lab("docker exec -it <itd container> bash -c 'cat /etc/os-release'", async ({ containers, annotate }) => {
    const exec = await containers.get("itd").exec({
      Cmd: ["bash", "-c", "cat /etc/os-release"],
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false, Tty: true });
    let output = "";
    stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => stream.on("end", resolve));
    expect(await exec.inspect()).toMatchObject({ ExitCode: 0 });
    const name = output.match(/^PRETTY_NAME="?([^"\r\n]+)"?\r?$/m)?.[1];
    expect(name).toMatch(/\w+/);
    await annotate(`exec in the running python container: ${name}`);
  });

  lab("Ctrl-P Ctrl-Q detaches from docker run -it, the container keeps running", async ({ containers }) => {
    const container = await containers.create("detach", { Image: debian.ref, Cmd: ["bash"], ...INTERACTIVE_TTY });
    const terminal = await attach(container, { tty: true });
    await container.start();
    await expect.poll(() => terminal.output(), { timeout: 10_000 }).toMatch(PROMPT);
    const detached = new Promise((resolve) => terminal.stream.once("end", resolve).once("close", resolve));
    terminal.stream.write(Buffer.from([0x10, 0x11]));
    await expect(Promise.race([detached.then(() => "detached"), sleep(10_000, "still attached")])).resolves.toBe(
      "detached",
    );
    expect(await isRunning(container)).toBe(true);
  });

  lab("docker ps / docker ps -a", async ({ containers, annotate }) => {
    const docker = await dockerApi();
    const filters = JSON.stringify({ label: [runLabelFilter()] });
    const names = async (all: boolean) =>
      (await docker.listContainers({ all, filters })).map(({ Names }) => Names[0]!.slice(1));
    const [running, everything] = [await names(false), await names(true)];
    const nameOf = async (role: string) => (await containers.get(role).inspect()).Name.slice(1);
    for (const role of ["itd", "detach", "t"]) expect(running).toContain(await nameOf(role));
    for (const role of ["run", "i", "it", "d"]) {
      expect(running).not.toContain(await nameOf(role));
      expect(everything).toContain(await nameOf(role));
    }
    await annotate(`docker ps: ${running.length} running; docker ps -a: ${everything.length} in all`);
  });
});
