// The machine a benchmark ran on, for the table it is printed with: figures of a 2-core machine under a shared
// engine mean little without it.
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, totalmem } from "node:os";
import { dockerApi } from "../helpers/engine/client.ts";

export async function machine(): Promise<string> {
  const docker = await dockerApi();
  const [version, info] = await Promise.all([docker.version(), docker.info()]);
  const debian = (() => {
    try {
      return `Debian ${readFileSync("/etc/debian_version", "utf8").trim()}`;
    } catch {
      return process.platform;
    }
  })();
  return (
    `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${debian}, Docker ${version.Version} (cgroup v${info.CgroupVersion}, ` +
    `${info.Driver}), Node ${process.version}`
  );
}
