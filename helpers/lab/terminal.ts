import type { Duplex } from "node:stream";
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

export function prettyName(osRelease: string): string | undefined {
  return osRelease.match(/^PRETTY_NAME="?([^"\n]+)"?$/m)?.[1];
}
