// The machine a benchmark ran on, for the table it is printed with: figures of a 2-core machine under a shared
// engine mean little without it.
import { availableParallelism, cpus, totalmem } from "node:os";
import { dockerApi } from "../helpers/engine/client.ts";
import { read } from "./sampler.ts";

export async function machine(): Promise<string> {
  const docker = await dockerApi();
  const [version, info] = await Promise.all([docker.version(), docker.info()]);
  const debian = read("/etc/debian_version").trim();
  return (
    `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? "unknown CPU"}), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${debian ? `Debian ${debian}` : process.platform}, ` +
    `Docker ${version.Version} (cgroup v${info.CgroupVersion}, ${info.Driver}), Node ${process.version}`
  );
}
