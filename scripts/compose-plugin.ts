// Docker Compose v2 for a machine whose distribution ships only v1 (Debian 12 has the Python docker-compose 1.29):
// sid's docker-compose package carries the v2 CLI plugin, which runs on Debian 12's libc. It goes into the project's
// own plugin folder, never into ~/.docker; the labs point the docker CLI at it through a DOCKER_CONFIG of their own.
//
// node scripts/compose-plugin.ts install
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMPOSE_PLUGIN_DIR } from "../helpers/engine/compose-cli.ts";
import { withSidPackages } from "../helpers/private-engines/host-setup.ts";

const PLUGIN = join(COMPOSE_PLUGIN_DIR, "docker-compose");
const MARKER = join(COMPOSE_PLUGIN_DIR, "VERSION"); // written last: a half-finished copy is redone, not trusted
const IN_PACKAGE = "usr/libexec/docker/cli-plugins/docker-compose";
const say = (line: string) => console.error(`compose: ${line}`);

/** sid's Compose v2 plugin in COMPOSE_PLUGIN_DIR; a no-op once there. */
async function ensureComposePlugin(): Promise<void> {
  if (existsSync(MARKER) && existsSync(PLUGIN)) {
    return say(`v2 plugin ${readFileSync(MARKER, "utf8").trim()} already in ${COMPOSE_PLUGIN_DIR}`);
  }
  await withSidPackages(["docker-compose"], say, (root) => {
    const unpacked = join(root, IN_PACKAGE);
    if (!existsSync(unpacked)) throw new Error(`sid's docker-compose has no ${IN_PACKAGE}`);
    const version = execFileSync(unpacked, ["version", "--short"], { encoding: "utf8" }).trim();
    if (!/^v?2\./.test(version)) throw new Error(`sid's docker-compose is ${version}, not Compose v2`);
    mkdirSync(COMPOSE_PLUGIN_DIR, { recursive: true });
    copyFileSync(unpacked, PLUGIN);
    chmodSync(PLUGIN, 0o755);
    writeFileSync(MARKER, `${version}\n`);
    say(`v2 plugin ${version} installed in ${COMPOSE_PLUGIN_DIR}`);
  });
}

try {
  if (process.argv[2] !== "install") throw new Error("usage: compose-plugin.ts install");
  await ensureComposePlugin();
} catch (error) {
  console.error(`compose-plugin: ${(error as Error).message}`);
  process.exitCode = 1;
}
