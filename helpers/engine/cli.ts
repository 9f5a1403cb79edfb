import { spawn } from "node:child_process";
import { text } from "node:stream/consumers";
import { engineClient, endpointOf } from "./client.ts";

// Only where a step is about the docker CLI itself (Go-template output, client-side login state); always pointed at
// the engine testcontainers found, never at whatever the user's docker context names. `input` goes to its stdin, so
// that a password never stands on a command line.
export async function dockerCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input = "",
): Promise<{ stdout: string; stderr: string }> {
  const endpoint = endpointOf((await engineClient()).container.dockerode);
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env, DOCKER_HOST: endpoint };
  delete environment.DOCKER_CONTEXT;
  const child = spawn("docker", args, { env: environment, stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve, reject) => {
    // A command refused before it reads stdin (a reference the CLI cannot parse) closes the pipe first: its exit code
    // and output say why, not the EPIPE of writing to it.
    child.stdin.on("error", (error: NodeJS.ErrnoException) => error.code === "EPIPE" || reject(error));
    child.once("error", reject).once("close", resolve);
    child.stdin.end(input);
  });
  const [code, stdout, stderr] = await Promise.all([exited, text(child.stdout), text(child.stderr)]);
  if (code !== 0) throw new Error(`docker ${args.join(" ")} exited with ${code}: ${(stdout + stderr).trim()}`);
  return { stdout, stderr };
}
