import { endpointOf, type Docker } from "./client.ts";
import { isRemoteEndpoint, publishAddressFor } from "./reach.ts";

export interface Engine {
  endpoint: string;
  remote: boolean;
  // Where the runner reaches the ports the run publishes (see reach.ts).
  publishAddress: string;
  version: string;
  apiVersion: string;
  minApiVersion: string;
  os: string;
  arch: string;
  machine: string;
  driver: string;
  imageStore: "containerd" | "classic";
  cgroupVersion: string;
  dataRoot: string;
}

// The facts a lab may depend on, as the engine reports them: where it keeps its data, which image store it uses
// (Docker 29 and Docker Desktop default to containerd's), and the API range it accepts.
export async function engineFacts(docker: Docker): Promise<Engine> {
  const [version, info] = await Promise.all([docker.version(), docker.info()]);
  const driverStatus: [string, string][] = info.DriverStatus ?? [];
  const containerdStore = driverStatus.some(([, value]) => /io\.containerd\.snapshotter/.test(value));
  const endpoint = endpointOf(docker);
  return {
    endpoint,
    remote: isRemoteEndpoint(endpoint),
    publishAddress: await publishAddressFor(endpoint),
    version: version.Version,
    apiVersion: version.ApiVersion,
    minApiVersion: (version as { MinAPIVersion?: string }).MinAPIVersion ?? "",
    os: version.Os,
    arch: version.Arch,
    machine: info.Architecture,
    driver: info.Driver,
    imageStore: containerdStore ? "containerd" : "classic",
    cgroupVersion: info.CgroupVersion ?? "1",
    dataRoot: info.DockerRootDir,
  };
}

export function describeEngine(engine: Engine): string {
  return (
    `Docker ${engine.version} ${engine.os}/${engine.arch} at ${engine.endpoint} ` +
    `(API ${engine.minApiVersion}–${engine.apiVersion}, ${engine.imageStore} image store, driver ${engine.driver}, ` +
    `cgroup v${engine.cgroupVersion}, data root ${engine.dataRoot})`
  );
}

// An API version as a comparable number: "1.41" -> 1.041.
export function apiLevel(version: string): number {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major + minor / 1000;
}
