import { describe, expect, it } from "vitest";
import {
  connectOptions,
  endpointOfModem,
  formatEndpoint,
  isRemote,
  parseEndpoint,
} from "../../helpers/engine/endpoint.ts";
import { targetOf } from "../../helpers/engine/hosts.ts";

describe("engine endpoints", () => {
  it.each([
    ["unix:///var/run/docker.sock", { kind: "unix", path: "/var/run/docker.sock" }],
    ["unix:///Users/ann/.docker/run/docker.sock", { kind: "unix", path: "/Users/ann/.docker/run/docker.sock" }],
    ["npipe:////./pipe/docker_engine", { kind: "npipe", path: "//./pipe/docker_engine" }],
    ["npipe:////./pipe/dockerDesktopLinuxEngine", { kind: "npipe", path: "//./pipe/dockerDesktopLinuxEngine" }],
    ["npipe://", { kind: "npipe", path: "//./pipe/docker_engine" }],
    ["tcp://10.0.0.7:2376", { kind: "tcp", host: "10.0.0.7", port: 2376 }],
    ["tcp://docker.example:2375", { kind: "tcp", host: "docker.example", port: 2375 }],
    ["tcp://[::1]:2375", { kind: "tcp", host: "::1", port: 2375 }],
    ["localhost:2375", { kind: "tcp", host: "localhost", port: 2375 }],
    ["ssh://ann@build-host", { kind: "ssh", host: "build-host", port: 22, user: "ann" }],
    ["ssh://ann@build-host:2222", { kind: "ssh", host: "build-host", port: 2222, user: "ann" }],
  ])("%s is read as DOCKER_HOST means it", (spelled, endpoint) => {
    expect(parseEndpoint(spelled)).toEqual(endpoint);
  });

  it("keeps a named pipe's //./ prefix, which URL parsing drops (//pipe/… would be a UNC share on Windows)", () => {
    expect(new URL("npipe:////./pipe/docker_engine").pathname).toBe("//pipe/docker_engine");
    expect(formatEndpoint(parseEndpoint("npipe:////./pipe/docker_engine"))).toBe("npipe:////./pipe/docker_engine");
  });

  it("rejects what is no engine endpoint, naming the schemes it takes", () => {
    expect(() => parseEndpoint("fd://")).toThrow(
      "fd:// is no engine endpoint: use unix://, npipe://, tcp:// or ssh://",
    );
  });

  // The modem options as docker-modem and testcontainers' strategies build them (npipe-socket-strategy.js: socketPath
  // "//./pipe/docker_engine"; configuration-strategy.js: host and port from DOCKER_HOST).
  it.each([
    [{ socketPath: "/var/run/docker.sock" }, "unix:///var/run/docker.sock"],
    [{ socketPath: "//./pipe/docker_engine" }, "npipe:////./pipe/docker_engine"],
    [{ socketPath: "\\\\.\\pipe\\docker_engine" }, "npipe:////./pipe/docker_engine"],
    [{ host: "10.0.0.7", port: "2376", protocol: "https" }, "tcp://10.0.0.7:2376"],
    [{ host: "localhost", port: "" }, "tcp://localhost:2375"],
    [{ host: "build-host", port: "22", protocol: "ssh", username: "ann" }, "ssh://ann@build-host:22"],
  ])("a client with modem %j talks to %s, which the docker CLI takes as DOCKER_HOST", (modem, spelled) => {
    expect(formatEndpoint(endpointOfModem(modem))).toBe(spelled);
  });

  it("opens a named pipe by its Win32 name and a socket by its path", () => {
    expect(connectOptions(parseEndpoint("npipe:////./pipe/docker_engine"))).toEqual({
      path: "\\\\.\\pipe\\docker_engine",
    });
    expect(connectOptions(parseEndpoint("unix:///var/run/docker.sock"))).toEqual({ path: "/var/run/docker.sock" });
    expect(connectOptions(parseEndpoint("tcp://10.0.0.7:2376"))).toEqual({ host: "10.0.0.7", port: 2376 });
  });

  it("gives dockerode the pipe as its socketPath, as docker-modem keeps it", () => {
    expect(targetOf("npipe:////./pipe/docker_engine")).toEqual({ socketPath: "//./pipe/docker_engine" });
    expect(targetOf("tcp://10.0.0.7:2376")).toEqual({ host: "10.0.0.7", port: 2376 });
  });

  it.each([
    ["unix:///var/run/docker.sock", false],
    ["npipe:////./pipe/docker_engine", false],
    ["tcp://127.0.0.1:2375", false],
    ["tcp://localhost:2375", false],
    ["tcp://[::1]:2375", false],
    ["tcp://10.0.0.7:2376", true],
    ["tcp://docker.example:2376", true],
    ["ssh://ann@build-host", true],
    ["ssh://ann@localhost", false],
  ])("%s is remote: %s", (spelled, remote) => {
    expect(isRemote(parseEndpoint(spelled))).toBe(remote);
  });
});
