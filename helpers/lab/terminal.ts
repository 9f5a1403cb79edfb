import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import { dockerApi } from "../engine/client.ts";

const PROMPT = /[#$] $/;
const SEEN_WITHIN_MS = 10_000;
// Carriage returns and escape sequences (bash's bracketed-paste switch) are the terminal's, not the command's output.
// eslint-disable-next-line no-control-regex -- an escape sequence is exactly what is matched
const TERMINAL_CONTROL = /\r|\x1b\[[0-9;?]*[a-zA-Z]/g;

// `docker exec -it CONTAINER COMMAND`: a TTY with stdin attached, as a person uses it.
async function execTerminal(containerId: string, command: string[]) {
  const exec = await (await dockerApi()).getContainer(containerId).exec({
    Cmd: command,
    Tty: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
  let screen = "";
  stream.on("data", (chunk: Buffer) => (screen += chunk.toString()));
  const ended = new Promise<void>((resolve) => stream.once("end", resolve).once("close", resolve));
  return {
    screen: () => screen,
    write: (text: string) => stream.write(text),
    ended,
    exited: async () => {
      await ended;
      const { ExitCode, ProcessConfig } = await exec.inspect();
      expect(ProcessConfig.tty, `${command.join(" ")} ran on a TTY`).toBe(true);
      return ExitCode;
    },
  };
}

// `docker exec -it CONTAINER bash`, then typing at the prompt.
export async function typeAtShellPrompt(containerId: string, typed: string, shell = "bash"): Promise<string> {
  const terminal = await execTerminal(containerId, [shell]);
  await expect.poll(terminal.screen, { timeout: SEEN_WITHIN_MS }).toMatch(PROMPT);
  const promptShown = terminal.screen().length;
  terminal.write(`${typed}; exit\n`);
  expect(await terminal.exited()).toBe(0);
  return terminal.screen().slice(promptShown).replace(TERMINAL_CONTROL, "");
}

export interface Answered {
  exitCode: number | null;
  // What the terminal showed, the secret blanked out wherever it appeared.
  screen: string;
  // Whether the secret appeared on the terminal as it was typed.
  echoed: boolean;
}

// `docker exec -it CONTAINER COMMAND`, a program that asks for a secret at its own prompt (`mysql -p`'s "Enter
// password:"): the secret is typed there, then `then` is typed at the program's next prompt, if it gets that far. The
// secret is never returned, printed or put in an assertion's message.
export async function typeAtProgramPrompt(
  containerId: string,
  command: string[],
  { asks, secret, next, then }: { asks: RegExp; secret: string; next: RegExp; then: string },
): Promise<Answered> {
  const terminal = await execTerminal(containerId, command);
  const screen = () => terminal.screen().replaceAll(secret, "<typed secret>");
  let ended = false;
  void terminal.ended.then(() => (ended = true));
  const shows = (pattern: RegExp, from = 0) =>
    expect
      .poll(() => ended || pattern.test(terminal.screen().slice(from)), {
        timeout: SEEN_WITHIN_MS,
        message: `${command.join(" ")} shows ${pattern} or ends`,
      })
      .toBe(true);
  await shows(asks);
  expect(screen(), `${command.join(" ")} asks ${asks}`).toMatch(asks);
  const asked = terminal.screen().length;
  terminal.write(`${secret}\n`);
  await shows(next, asked);
  if (!ended) terminal.write(then);
  const exitCode = await terminal.exited();
  return { exitCode, screen: screen().replace(TERMINAL_CONTROL, ""), echoed: terminal.screen().includes(secret) };
}

// `docker attach CONTAINER`: stdout and stderr, and stdin where the container keeps it open (Config.OpenStdin), on one
// hijacked connection, with the options in the query string and no request body, as the docker CLI asks. dockerode's
// attach also sends its options as a JSON body, which Podman hands on to the container's stdin (apocas/dockerode#742):
// bash then runs `{"stream":true,...}`. And the CLI never asks for the stdin of a container created without -i, which
// Podman would otherwise pass to its terminal.
export async function attachStdio(containerId: string): Promise<Duplex> {
  const docker = await dockerApi();
  const { Config } = await docker.getContainer(containerId).inspect();
  const options = {
    path: `/containers/${containerId}/attach?`,
    method: "POST",
    isStream: true,
    hijack: true,
    openStdin: true,
    statusCodes: { 101: true, 200: true, 404: "no such container", 500: "server error" },
    options: { stream: true, stdin: Config.OpenStdin, stdout: true, stderr: true },
    // An empty body sent as a file: docker-modem then sends Content-Length 0 rather than the options, and the write
    // sends the request's headers, which a request left open for stdin would otherwise hold back.
    file: Buffer.alloc(0),
  };
  return new Promise((resolve, reject) =>
    docker.modem.dial(options, (error: unknown, stream: unknown) =>
      error ? reject(error as Error) : resolve(stream as Duplex),
    ),
  );
}

const KEYSTROKE_GAP_MS = 100;

// Keys as a person presses them, one at a time: Podman looks for a detach sequence only among reads of one byte
// each, so Ctrl-P Ctrl-Q sent in one write reaches the shell instead (libpod's CopyDetachable).
export async function pressKeys(stream: Duplex, keys: number[]): Promise<void> {
  for (const key of keys) {
    await new Promise<void>((resolve, reject) =>
      stream.write(Buffer.from([key]), (error) => (error ? reject(error) : resolve())),
    );
    await sleep(KEYSTROKE_GAP_MS);
  }
}

export function prettyName(osRelease: string): string | undefined {
  return osRelease.match(/^PRETTY_NAME="?([^"\n]+)"?$/m)?.[1];
}
