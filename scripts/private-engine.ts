// The private engines' command line (helpers/private-engines/lifecycle.ts is the library):
// node scripts/private-engine.ts install
// node scripts/private-engine.ts start --name X --engine docker20|docker28|podman4 [--containerd-store] [--min-api 1.44]
//                                      [--remote | --rootless] [--registry-mirror URL]
// node scripts/private-engine.ts stop --name X
// node scripts/private-engine.ts copy --to-name X REF...      (from the engine testcontainers finds)
import { parseArgs } from "node:util";
import { dockerApi } from "../helpers/engine/client.ts";
import { dockerApiAt } from "../helpers/engine/hosts.ts";
import { copyImages, privateEngineEnv } from "../helpers/private-engines/lifecycle.ts";
import { startPrivateEngine, stopPrivateEngine } from "../helpers/private-engines/lifecycle.ts";
import { ensureDocker28 } from "../helpers/private-engines/host-setup.ts";

const [command = "", ...argv] = process.argv.slice(2);
const { values: v, positionals } = parseArgs({
  args: argv,
  allowPositionals: command === "copy",
  options: {
    name: { type: "string" },
    engine: { type: "string", default: "docker20" },
    "containerd-store": { type: "boolean" },
    "min-api": { type: "string" },
    remote: { type: "boolean" },
    rootless: { type: "boolean" },
    "registry-mirror": { type: "string" },
    "to-name": { type: "string" },
  },
});
const need = (value: string | undefined, flag: string): string => {
  if (!value) throw new Error(`${command} needs --${flag}`);
  return value;
};

try {
  if (command === "install") await ensureDocker28();
  else if (command === "stop") await stopPrivateEngine(need(v.name, "name"));
  else if (command === "copy") {
    const to = dockerApiAt(privateEngineEnv(need(v["to-name"], "to-name")));
    await copyImages(await dockerApi(), to, positionals);
  } else if (command === "start") {
    if (v.engine !== "docker20" && v.engine !== "docker28" && v.engine !== "podman4")
      throw new Error("--engine is docker20, docker28 or podman4");
    const started = await startPrivateEngine({
      name: need(v.name, "name"),
      engine: v.engine,
      containerdStore: v["containerd-store"],
      minApiVersion: v["min-api"],
      remote: v.remote,
      rootless: v.rootless,
      registryMirror: v["registry-mirror"],
    });
    for (const [key, value] of Object.entries(started.env)) console.log(`${key}=${value}`);
  } else throw new Error("usage: private-engine.ts install|start|stop|copy …");
} catch (error) {
  console.error(`private-engine: ${(error as Error).message}`);
  process.exitCode = 1;
}
