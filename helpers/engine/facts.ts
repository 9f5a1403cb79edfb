import { endpointOf, productOf, type Docker } from "./client.ts";
import { isRemoteEndpoint, publishAddressFor } from "./reach.ts";

export interface Engine {
  // Who answers the Docker API.
  product: "Docker" | "Podman";
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
    product: productOf(version),
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

// Podman has no image stores to choose from: its storage driver is what tells one Podman's images from another's.
const storeOf = (engine: Engine) =>
  engine.product === "Podman"
    ? `storage driver ${engine.driver}`
    : `${engine.imageStore} image store, driver ${engine.driver}`;

export function describeEngine(engine: Engine): string {
  const api = engine.product === "Docker" ? "API" : "Docker API";
  return (
    `${engine.product} ${engine.version} ${engine.os}/${engine.arch} at ${engine.endpoint} ` +
    `(${api} ${engine.minApiVersion}–${engine.apiVersion}, ${storeOf(engine)}, ` +
    `cgroup v${engine.cgroupVersion}, data root ${engine.dataRoot})`
  );
}

/** "Docker 28.5.2, containerd store (overlayfs)", "Podman 4.3.1, storage driver overlay": an engine in a few words. */
export function engineTitle(engine: Engine): string {
  if (engine.product === "Podman") return `Podman ${engine.version}, storage driver ${engine.driver}`;
  return `Docker ${engine.version}, ${engine.imageStore} store (${engine.driver})`;
}

// An API version as a comparable number: "1.41" -> 1.041.
export function apiLevel(version: string): number {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major + minor / 1000;
}
