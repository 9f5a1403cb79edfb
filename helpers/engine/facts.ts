import { endpointOf, type EngineClient } from "./client.ts";
import { isRemote, parseEndpoint } from "./endpoint.ts";
import { publishAddressFor } from "./reach.ts";

export interface Engine {
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

export function describeEngine(engine: Engine): string {
  return (
    `Docker ${engine.version} ${engine.os}/${engine.arch} at ${engine.endpoint} ` +
    `(API ${engine.minApiVersion}–${engine.apiVersion}, ${engine.imageStore} image store, driver ${engine.driver}, ` +
    `cgroup v${engine.cgroupVersion} (driver ${engine.cgroupDriver}), data root ${engine.dataRoot}) on ` +
    `${engine.operatingSystem}, ${engine.remote ? "remote" : "local"}${engine.rootless ? ", rootless" : ""}, socket ${engine.socketPath} as the engine sees it`
  );
}

export const describeRunner = (runner: Runner) => `runner ${runner.platform}/${runner.arch}`;

// An API version as a comparable number: "1.41" -> 1.041.
export function apiLevel(version: string): number {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major + minor / 1000;
}
