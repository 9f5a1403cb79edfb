import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerCli } from "../engine/cli.ts";
import type { Credentials } from "../engine/transfer.ts";

// The docker client's own state: `docker login` writes config.json under DOCKER_CONFIG, `docker logout` edits it,
// and every push and pull reads it afresh. The directory holds a credential, so only its owner may read it.
export interface ClientConfig extends AsyncDisposable {
  env: { DOCKER_CONFIG: string };
  file: string;
}

export async function clientConfig(): Promise<ClientConfig> {
  const dir = await mkdtemp(join(tmpdir(), "labs-docker-config-"));
  return {
    env: { DOCKER_CONFIG: dir },
    file: join(dir, "config.json"),
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  };
}

// The registries config.json holds credentials for: its `auths` keys, never the entries themselves.
export async function loggedInTo(config: ClientConfig): Promise<string[]> {
  return Object.keys(await auths(config));
}

async function auths(config: ClientConfig): Promise<Record<string, { auth?: string }>> {
  const text = await readFile(config.file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return "{}";
    throw error;
  });
  return (JSON.parse(text) as { auths?: Record<string, { auth?: string }> }).auths ?? {};
}

// What `docker push` and `docker pull` send as X-Registry-Auth: the `auths` entry for the registry, decoded, or
// nothing when there is none.
export async function clientCredentials(config: ClientConfig, address: string): Promise<Credentials | undefined> {
  const entry = (await auths(config))[address]?.auth;
  if (!entry) return undefined;
  const decoded = Buffer.from(entry, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: address };
}

// `docker login --password-stdin`: the password never appears on a command line. The client asks the
// engine testcontainers found to check the credentials.
export async function dockerLogin(config: ClientConfig, credentials: Credentials): Promise<string> {
  const args = ["login", "--username", credentials.username, "--password-stdin", credentials.serveraddress];
  const { stdout, stderr } = await dockerCli(args, config.env, credentials.password);
  return stdout + stderr;
}

export async function dockerLogout(config: ClientConfig, address: string): Promise<string> {
  const { stdout, stderr } = await dockerCli(["logout", address], config.env);
  return stdout + stderr;
}
