import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { engineClient, endpointOf } from "./client.ts";

const run = promisify(execFile);

// Only where a step is about the docker CLI itself (Go-template output, client-side login state); always pointed at
// the engine testcontainers found, never at whatever the user's docker context names.
export async function dockerCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string }> {
  const endpoint = endpointOf((await engineClient()).container.dockerode);
  const inherited = { ...process.env };
  delete inherited.DOCKER_CONTEXT;
  return run("docker", args, { env: { ...inherited, ...env, DOCKER_HOST: endpoint }, encoding: "utf8" });
}
