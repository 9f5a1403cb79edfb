import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerCli } from "./cli.ts";

// Where `node scripts/compose-plugin.ts install` puts Compose v2 on a machine whose distribution ships only v1
// (Debian 12): the project's own folder, never the user's ~/.docker.
export const COMPOSE_PLUGIN_DIR = "/opt/container-labs/cli-plugins";

export interface ComposePlugin extends AsyncDisposable {
  version: string;
  // The docker CLI's own plugin folders, or COMPOSE_PLUGIN_DIR.
  where: string;
  // For every `docker compose` of the run: a DOCKER_CONFIG naming COMPOSE_PLUGIN_DIR where the CLI lacks the plugin.
  env: Record<string, string>;
}

// "Docker Compose version v2.40.3" (Docker's builds) or "… version 2.40.3-3" (Debian's).
async function composeVersion(env: Record<string, string>): Promise<{ version?: string; answer: string }> {
  return dockerCli(["compose", "version"], env).then(
    ({ stdout }) => ({ version: /version v?(\d[^\s,]*)/.exec(stdout)?.[1], answer: stdout.trim() }),
    (error: Error) => ({ answer: /exited with \S+: (.*)/.exec(error.message)?.[1] ?? error.message }),
  );
}

const isV2 = (version?: string) => Number(version?.split(".")[0]) >= 2;

// The plugin the user's docker CLI finds (~/.docker/cli-plugins, /usr/libexec/docker/cli-plugins, Docker Desktop's),
// else the project's, through a DOCKER_CONFIG of the run's own whose config.json names its folder.
export async function composePlugin(): Promise<ComposePlugin> {
  const own = await composeVersion({});
  if (isV2(own.version)) {
    return { version: own.version!, where: "the docker CLI's plugins", env: {}, [Symbol.asyncDispose]: async () => {} };
  }
  if (existsSync(join(COMPOSE_PLUGIN_DIR, "docker-compose"))) {
    const config = await mkdtemp(join(tmpdir(), "labs-docker-config-"));
    const dispose = () => rm(config, { recursive: true, force: true });
    await writeFile(join(config, "config.json"), JSON.stringify({ cliPluginsExtraDirs: [COMPOSE_PLUGIN_DIR] }));
    const env = { DOCKER_CONFIG: config };
    const project = await composeVersion(env);
    if (isV2(project.version)) {
      return { version: project.version!, where: COMPOSE_PLUGIN_DIR, env, [Symbol.asyncDispose]: dispose };
    }
    await dispose();
    throw new Error(
      `The Docker Compose v2 plugin in ${COMPOSE_PLUGIN_DIR} does not run (\`docker compose version\`: ${project.answer}): ` +
        "reinstall it with `node scripts/compose-plugin.ts install`.",
    );
  }
  throw new Error(
    `No Docker Compose v2 plugin: \`docker compose version\` answers "${own.answer}" and ${COMPOSE_PLUGIN_DIR} has none. ` +
      "Install the docker-compose-plugin package (Docker's apt/yum repositories) or Docker Desktop, " +
      "or on Debian `node scripts/compose-plugin.ts install` (sid's docker-compose, into that folder).",
  );
}
