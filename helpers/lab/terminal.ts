import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import { dockerApi } from "../engine/client.ts";

const PROMPT = /[#$] $/;
// Carriage returns and escape sequences (bash's bracketed-paste switch) are the terminal's, not the command's output.
// eslint-disable-next-line no-control-regex -- an escape sequence is exactly what is matched
const TERMINAL_CONTROL = /\r|\x1b\[[0-9;?]*[a-zA-Z]/g;

// `docker exec -it CONTAINER bash`, then typing at the prompt: a TTY with stdin attached, as a person uses it.
export async function typeAtShellPrompt(containerId: string, typed: string, shell = "bash"): Promise<string> {
  const exec = await (await dockerApi()).getContainer(containerId).exec({
    Cmd: [shell],
    Tty: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
  let screen = "";
  stream.on("data", (chunk: Buffer) => (screen += chunk.toString()));
  const ended = new Promise((resolve) => stream.once("end", resolve).once("close", resolve));
  await expect.poll(() => screen, { timeout: 10_000 }).toMatch(PROMPT);
  const promptShown = screen;
  stream.write(`${typed}; exit\n`);
  await ended;
  expect(await exec.inspect()).toMatchObject({ ExitCode: 0, ProcessConfig: { tty: true } });
  return screen.slice(promptShown.length).replace(TERMINAL_CONTROL, "");
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
