import { PassThrough, type Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import {
  createRawContainer,
  nameForRun,
  runLabelFilter,
  type FixtureHooks,
  type RawContainer,
} from "../helpers/lab/containers.ts";
import { dockerApi } from "../helpers/lab/engine.ts";
import { describeImage, disposableName, expectedOs, labImage, normalizeReference } from "../helpers/lab/images.ts";
import { startEarly } from "../helpers/lab/start-early.ts";
import { attachStdio, prettyName, pressKeys, typeAtShellPrompt } from "../helpers/lab/terminal.ts";

const ubuntu = labImage("ubuntu:14.04");
const python = labImage("python:3.9-slim-bullseye");
const BOOK_NAME = "container-test1";
const INTERACTIVE_TTY = { Tty: true, OpenStdin: true, AttachStdin: true, AttachStdout: true, AttachStderr: true };
const EXIT_WITHIN_MS = 10_000;
const READ_FOR_S = 2;
const TYPED = "typed-at-the-terminal";
// bash runs PROMPT_COMMAND before it prints a prompt: here, before its first one only, it reads its own terminal for
// READ_FOR_S seconds and says on it what it read and how the read ended (above 128: it timed out).
const READS_ITS_TERMINAL = `PROMPT_COMMAND=PROMPT_COMMAND=; echo "reading its terminal"; read -r -t ${READ_FOR_S} line; echo "read [$line] status $?"`;

type CreateOptions = Parameters<typeof createRawContainer>[0];

// `docker run -d …`: created and started as the file starts, removed with it.
function runDetached(role: string, options: CreateOptions, hooks: FixtureHooks) {
  return startEarly(
    {
      async start() {
        const container = await createRawContainer({ name: nameForRun(`lab322-${role}`), ...options });
        const removed = {
          container,
          stop: async () => {
            await container[Symbol.asyncDispose]();
          },
        };
        await container.start().catch(async (error: unknown) => {
          await removed.stop();
          throw error;
        });
        return removed;
      },
    },
    hooks,
  );
}

const lab = test
  // `docker image tag ubuntu:14.04 container-test1` under this run's name: a bare container-test1 may be the reader's
  // own image or another run's. The run's id in it is how the run's clean-up knows the tag as its own.
  .extend("containerTest1", { scope: "file" }, async ({}, { onCleanup }) => {
    const ref = `${nameForRun("labs")}/${BOOK_NAME}`;
    await (await dockerApi()).getImage(ubuntu.ref).tag({ repo: ref });
    const tagged = await disposableName(ref);
    onCleanup(() => tagged[Symbol.asyncDispose]());
    return tagged;
  })
  .extend("detachedPython", { scope: "file", auto: true }, async ({}, hooks) =>
    runDetached("d", { Image: python.ref }, hooks),
  )
  .extend("interactivePython", { scope: "file", auto: true }, async ({}, hooks) =>
    runDetached("itd", { Image: python.ref, Tty: true, OpenStdin: true }, hooks),
  )
  .extend("interactiveContainerTest1", { scope: "file", auto: true }, async ({ containerTest1 }, hooks) =>
    runDetached("it", { Image: containerTest1.ref, Cmd: ["bash"], Tty: true, OpenStdin: true }, hooks),
  );

interface Terminal {
  stream: Duplex;
  output: () => string;
}

async function attach(container: RawContainer, { tty }: { tty: boolean }) {
  const docker = await dockerApi();
  const stream = await attachStdio(container.id);
  let text = "";
  const sink = new PassThrough().on("data", (chunk: Buffer) => (text += chunk.toString()));
  if (tty) stream.on("data", (chunk: Buffer) => sink.write(chunk));
  else docker.modem.demuxStream(stream, sink, sink);
  return { stream, output: () => text } satisfies Terminal;
}

async function logsOf(container: RawContainer): Promise<string> {
  return (await container.logs({ stdout: true, stderr: true, follow: false })).toString();
}

const isRunning = async (container: RawContainer) => (await container.inspect()).State.Running;

const ranOn = (ref: string) => `ran on ${ref}, the book's ${BOOK_NAME}: ${describeImage(ubuntu)}`;

describe("Lab 3.2.2: container commands", { timeout: 60_000 }, () => {
  lab(
    "docker pull ubuntu:14.04 && docker image tag ubuntu:14.04 container-test1",
    async ({ containerTest1, annotate }) => {
      const docker = await dockerApi();
      expect((await docker.getImage(ubuntu.ref).inspect()).Id).toBe(ubuntu.id);
      expect(normalizeReference(BOOK_NAME)).toBe(`docker.io/library/${BOOK_NAME}:latest`);
      // As the engine spells it: Docker lists the name as tagged, Podman's Docker-compatible API with docker.io/.
      const { RepoTags } = await docker.getImage(ubuntu.id).inspect();
      const wanted = normalizeReference(`${containerTest1.ref}:latest`);
      const named = RepoTags.find((tag) => normalizeReference(tag) === wanted);
      expect(named, `${wanted} among the image's names ${RepoTags.join(", ")}`).toBeDefined();
      expect((await docker.getImage(named!).inspect()).Id).toBe(ubuntu.id);
      await annotate(
        `book: docker image tag ubuntu:14.04 ${BOOK_NAME}; ran: docker image tag ${ubuntu.ref} ${containerTest1.ref} ` +
          `(this run's name for it); the engine named it ${named}, ` +
          `image ${ubuntu.id.replace(/^sha256:/, "").slice(0, 12)} as ubuntu:14.04`,
      );

      await using container = await createRawContainer({ Image: containerTest1.ref, Cmd: ["cat", "/etc/os-release"] });
      const terminal = await attach(container, { tty: false });
      await container.start();
      expect(await container.wait()).toMatchObject({ StatusCode: 0 });
      const os = expectedOs(ubuntu);
      await expect.poll(() => prettyName(terminal.output())).toBe(os.name);
      await annotate(`/etc/os-release of ${BOOK_NAME}: ${os.name}, as ${os.declaredBy} says; ${describeImage(ubuntu)}`);
    },
  );

  lab(
    "docker run container-test1 echo ... = docker create + docker start + the command",
    async ({ containerTest1, annotate }) => {
      await using container = await createRawContainer({
        Image: containerTest1.ref,
        Cmd: ["echo", "hello from docker run"],
      });
      expect((await container.inspect()).State.Status).toBe("created");
      expect((await container.inspect()).Image).toBe(containerTest1.id);
      const terminal = await attach(container, { tty: false });
      await container.start();
      expect(await container.wait()).toMatchObject({ StatusCode: 0 });
      await expect.poll(() => terminal.output()).toBe("hello from docker run\n");
      const { State } = await container.inspect();
      expect(State).toMatchObject({ Status: "exited", ExitCode: 0 });
      expect(Date.parse(State.StartedAt)).toBeGreaterThan(0);
      await annotate(ranOn(containerTest1.ref));
    },
  );

  lab("docker run -i container-test1 bash", async ({ containerTest1, annotate }) => {
    await using container = await createRawContainer({
      Image: containerTest1.ref,
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
    terminal.stream.write('echo "fed-through-stdin $((6 * 7))"\n');
    terminal.stream.end();
    expect(await container.wait()).toMatchObject({ StatusCode: 0 });
    await expect.poll(() => terminal.output()).toBe("fed-through-stdin 42\n");
    await annotate(ranOn(containerTest1.ref));
  });

  lab("docker run -t container-test1 bash", async ({ containerTest1, annotate }) => {
    // What the shell itself read of a line written to the terminal while it read: with -t, and, in a second container
    // at the same time, with -it to show that the same read takes a line that does reach it.
    const readByShell = async (options: CreateOptions) => {
      await using container = await createRawContainer({
        Image: containerTest1.ref,
        Cmd: ["bash"],
        Env: [READS_ITS_TERMINAL],
        ...options,
      });
      const terminal = await attach(container, { tty: true });
      await container.start();
      await expect.poll(() => terminal.output(), { timeout: 10_000 }).toMatch(/^reading its terminal\r?$/m);
      terminal.stream.write(`${TYPED}\n`);
      await expect
        .poll(() => terminal.output(), { timeout: READ_FOR_S * 1000 + 10_000 })
        .toMatch(/^read \[.*\] status \d+\r?\n.*[#$] $/m);
      const [, line, status] = terminal.output().match(/^read \[(.*)\] status (\d+)/m)!;
      const running = await isRunning(container);
      terminal.stream.destroy();
      return { config: (await container.inspect()).Config, read: { line, timedOut: Number(status) > 128 }, running };
    };
    const [withT, withIt] = await Promise.all([readByShell({ Tty: true }), readByShell(INTERACTIVE_TTY)]);
    expect(withT.config).toMatchObject({ Tty: true, OpenStdin: false, AttachStdin: false });
    expect(withT.read, "what bash read of its terminal with -t").toEqual({ line: "", timedOut: true });
    expect(withT.running).toBe(true);
    expect(withIt.read, "what bash read of its terminal with -it").toEqual({ line: TYPED, timedOut: false });
    await annotate(
      `bash read its terminal for ${READ_FOR_S} s while "${TYPED}" was written to it: with -t it read nothing ` +
        `and timed out, with -it it read the line; ${ranOn(containerTest1.ref)}`,
    );
  });

  lab("docker run -it container-test1 bash", async ({ containerTest1, annotate }) => {
    await using container = await createRawContainer({
      Image: containerTest1.ref,
      Cmd: ["bash"],
      Hostname: "lab-it",
      ...INTERACTIVE_TTY,
    });
    const terminal = await attach(container, { tty: true });
    await container.start();
    await expect.poll(() => terminal.output(), { timeout: 10_000 }).toMatch(/root@lab-it:\/# $/);
    terminal.stream.write('echo "typed $((6 * 7))"; exit\n');
    const exited = await Promise.race([container.wait(), sleep(EXIT_WITHIN_MS, "still running")]);
    expect(exited, "bash after the typed exit").toMatchObject({ StatusCode: 0 });
    expect(terminal.output()).toMatch(/^typed 42$/m);
    await annotate(ranOn(containerTest1.ref));
  });

  lab("docker run -d python", async ({ detachedPython }) => {
    const { container } = await detachedPython.started;
    const exited = await Promise.race([container.wait(), sleep(EXIT_WITHIN_MS, "still running")]);
    expect(exited, `docker run -d python exits within ${EXIT_WITHIN_MS} ms`).toMatchObject({ StatusCode: 0 });
    const { State, Config } = await container.inspect();
    expect(Config).toMatchObject({ Tty: false, OpenStdin: false });
    expect(State).toMatchObject({ Status: "exited", ExitCode: 0 });
    expect(Date.parse(State.FinishedAt) - Date.parse(State.StartedAt)).toBeLessThan(EXIT_WITHIN_MS);
  });

  lab("docker run -itd python", async ({ interactivePython }) => {
    const { container } = await interactivePython.started;
    expect((await container.inspect()).Config).toMatchObject({ Tty: true, OpenStdin: true });
    await expect.poll(() => logsOf(container), { timeout: 10_000 }).toMatch(/^Python 3\./);
    expect(await isRunning(container)).toBe(true);
    const terminal = await attach(container, { tty: true });
    terminal.stream.write("print(6 * 7)\n");
    await expect.poll(() => terminal.output(), { timeout: 10_000 }).toMatch(/^42$/m);
    terminal.stream.destroy();
    expect(await isRunning(container)).toBe(true);
  });

  lab("docker exec -it <itd container> bash, then cat /etc/os-release", async ({ interactivePython, annotate }) => {
    const { container } = await interactivePython.started;
    const screen = await typeAtShellPrompt(container.id, "cat /etc/os-release");
    const os = expectedOs(python);
    expect(prettyName(screen)).toBe(os.name);
    expect(await isRunning(container)).toBe(true);
    await annotate(
      `typed at bash's prompt in the running ${python.ref} container: ${os.name}, as ${os.declaredBy} says`,
    );
  });

  lab(
    "Ctrl-P Ctrl-Q detaches from docker run -it, the container keeps running",
    async ({ interactiveContainerTest1, containerTest1, annotate }) => {
      const { container } = await interactiveContainerTest1.started;
      const terminal = await attach(container, { tty: true });
      terminal.stream.write('echo "attached $((6 * 7))"\n');
      await expect.poll(() => terminal.output(), { timeout: 10_000 }).toMatch(/^attached 42$/m);
      const detached = new Promise((resolve) => terminal.stream.once("end", resolve).once("close", resolve));
      await pressKeys(terminal.stream, [0x10, 0x11]);
      await expect(Promise.race([detached.then(() => "detached"), sleep(10_000, "still attached")])).resolves.toBe(
        "detached",
      );
      expect(await isRunning(container)).toBe(true);
      await annotate(ranOn(containerTest1.ref));
    },
  );

  lab("docker ps / docker ps -a", async ({ detachedPython, interactivePython, annotate }) => {
    const docker = await dockerApi();
    const [{ container: exited }, { container: running }] = await Promise.all([
      detachedPython.started,
      interactivePython.started,
    ]);
    await Promise.race([exited.wait(), sleep(EXIT_WITHIN_MS)]);
    const filters = JSON.stringify({ label: [runLabelFilter()] });
    const listed = async (all: boolean) => (await docker.listContainers({ all, filters })).map(({ Id }) => Id);
    const [ps, psAll] = await Promise.all([listed(false), listed(true)]);
    expect(ps).toContain(running.id);
    expect(ps).not.toContain(exited.id);
    expect(psAll).toContain(running.id);
    expect(psAll).toContain(exited.id);
    await annotate(`docker ps: ${ps.length} running of this run; docker ps -a: ${psAll.length}, the exited included`);
  });
});
