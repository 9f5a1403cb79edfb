import { endpointOf, productOf, type EngineClient } from "./client.ts";
import { isRemote, parseEndpoint } from "./endpoint.ts";
import { publishAddressFor } from "./reach.ts";

export interface Engine {
  // Who answers the Docker API.
  product: "Docker" | "Podman";
  endpoint: string;
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
  // "none" where containers get no cgroup of their own: a rootless engine on cgroup v1, or on v2 without systemd.
  cgroupDriver: string;
  // dockerd-rootless.sh's engine: "rootless" among its security options.
  rootless: boolean;
  // What `docker info` prints as WARNING lines, e.g. "WARNING: Running in rootless-mode without cgroups. …".
  warnings: string[];
  dataRoot: string;
  // What the engine's host runs, e.g. "Docker Desktop" or "Debian GNU/Linux 12 (bookworm)".
  operatingSystem: string;
  // On another machine than the runner: its published ports, sockets and files are that machine's.
  remote: boolean;
  // The engine's socket as a bind-mount source on the engine's side: testcontainers' remoteSocketPath, what it mounts
  // into Ryuk. Docker Desktop serves /var/run/docker.sock in its VM whatever socket the runner uses
  // (~/.docker/run/docker.sock on a Mac: testcontainers-java#7058); Windows runners get it as //var/run/docker.sock.
  socketPath: string;
}

// The machine the suite runs on, as Node reports it.
export interface Runner {
  platform: NodeJS.Platform;
  arch: string;
}

export const runnerFacts = (): Runner => ({ platform: process.platform, arch: process.arch });

// The facts a lab may depend on, as the engine reports them: where it keeps its data, which image store it uses
// (Docker 29 and Docker Desktop default to containerd's), and the API range it accepts.
export async function engineFacts(client: EngineClient): Promise<Engine> {
  const docker = client.container.dockerode;
  const [version, info] = await Promise.all([docker.version(), docker.info()]);
  const endpoint = endpointOf(docker);
  const driverStatus: [string, string][] = info.DriverStatus ?? [];
  const containerdStore = driverStatus.some(([, value]) => /io\.containerd\.snapshotter/.test(value));
  return {
    product: productOf(version),
    endpoint,
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
    cgroupDriver: info.CgroupDriver ?? "",
    rootless: (info.SecurityOptions ?? []).some((option: string) => /(^|,)name=rootless(,|$)/.test(option)),
    warnings: info.Warnings ?? [],
    dataRoot: info.DockerRootDir,
    operatingSystem: info.OperatingSystem,
    remote: isRemote(parseEndpoint(endpoint)),
    socketPath: client.info.containerRuntime.remoteSocketPath,
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
    `cgroup v${engine.cgroupVersion} (driver ${engine.cgroupDriver}), data root ${engine.dataRoot}) on ` +
    `${engine.operatingSystem}, ${engine.remote ? "remote" : "local"}${engine.rootless ? ", rootless" : ""}, socket ${engine.socketPath} as the engine sees it`
  );
}

/** "Docker 28.5.2, containerd store (overlayfs)", "Podman 4.3.1, storage driver overlay": an engine in a few words. */
export function engineTitle(engine: Engine): string {
  if (engine.product === "Podman") return `Podman ${engine.version}, storage driver ${engine.driver}`;
  const rootless = engine.rootless ? ", rootless" : "";
  return `Docker ${engine.version}${rootless}, ${engine.imageStore} store (${engine.driver}), API ≥ ${engine.minApiVersion}`;
}

export const describeRunner = (runner: Runner) => `runner ${runner.platform}/${runner.arch}`;

// An API version as a comparable number: "1.41" -> 1.041.
export function apiLevel(version: string): number {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major + minor / 1000;
}
