import { dirname } from "node:path";
import { createConnection } from "mysql2/promise";
import { Wait } from "testcontainers";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { httpAnswers, LabContainer, labMySql } from "../helpers/lab/containers.ts";
import { labEngine } from "../helpers/lab/engine.ts";
import { expectedOs, labImage } from "../helpers/lab/images.ts";
import { newSecret } from "../helpers/lab/secrets.ts";

// The engine's socket directory, as Lab 3-2 mounts it: /var/run on a default Docker. Podman cannot take all of /var/run
// read-only: it mounts /run/.containerenv into the container's /run.
const { endpoint } = labEngine();
const socketDirectory = endpoint.startsWith("unix://") ? dirname(endpoint.slice("unix://".length)) : "/var/run";

async function get(url: string) {
  const response = await request(url);
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

describe("Smoke: every lab image starts and answers", { timeout: 120_000, concurrent: true }, () => {
  it("nginx:1.18 serves its welcome page over HTTP", async () => {
    await using nginx = await new LabContainer(labImage("nginx:1.18").ref)
      .withExposedPorts(80)
      .withWaitStrategy(httpAnswers("/", 80))
      .start();
    const page = await get(`http://${nginx.getHost()}:${nginx.getMappedPort(80)}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>Welcome to nginx!</title>");
  });

  it("httpd:2.4 serves its default page over HTTP", async () => {
    await using httpd = await new LabContainer(labImage("httpd:2.4").ref)
      .withExposedPorts(80)
      .withWaitStrategy(httpAnswers("/", 80))
      .start();
    const page = await get(`http://${httpd.getHost()}:${httpd.getMappedPort(80)}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("It works!");
  });

  it("mysql:5.7 answers SELECT 1 over its published port", async () => {
    const rootPassword = newSecret();
    await using mysql = await labMySql(labImage("mysql:5.7").ref)
      .withRootPassword(rootPassword)
      .withUserPassword(newSecret())
      .start();
    const connecting = createConnection({
      host: mysql.getHost(),
      port: mysql.getPort(),
      user: "root",
      password: rootPassword,
    });
    await expect(connecting, "root with the MYSQL_ROOT_PASSWORD it was started with").resolves.toBeDefined();
    await using connection = await connecting;
    const [rows] = await connection.query("SELECT 1 AS res");
    expect(rows).toEqual([{ res: 1 }]);
  });

  it("gcr.io/cadvisor/cadvisor:v0.46.0 says ok on /healthz", async () => {
    await using cadvisor = await new LabContainer(labImage("gcr.io/cadvisor/cadvisor:v0.46.0").ref)
      .withExposedPorts(8080)
      .withBindMounts([{ source: socketDirectory, target: socketDirectory, mode: "ro" }])
      .withWaitStrategy(Wait.forHttp("/healthz", 8080).withReadTimeout(100))
      .start();
    const health = await get(`http://${cadvisor.getHost()}:${cadvisor.getMappedPort(8080)}/healthz`);
    expect(health).toMatchObject({ status: 200, body: "ok" });
  });

  it("registry:2 answers the distribution API on /v2/", async () => {
    await using registry = await new LabContainer(labImage("registry:2").ref)
      .withExposedPorts(5000)
      .withWaitStrategy(Wait.forLogMessage(/listening on/))
      .start();
    const api = await get(`http://${registry.getHost()}:${registry.getMappedPort(5000)}/v2/`);
    expect(api.status).toBe(200);
    expect(api.headers["docker-distribution-api-version"]).toBe("registry/2.0");
  });

  it("python:3.9-slim-bullseye runs a one-liner", async () => {
    await using python = await new LabContainer(labImage("python:3.9-slim-bullseye").ref)
      .withCommand(["sleep", "infinity"])
      .start();
    const result = await python.exec(["python", "-c", "print(6 * 7)"]);
    expect(result).toMatchObject({ exitCode: 0, stdout: "42\n" });
  });

  it("debian:bullseye runs a shell command", async () => {
    await using debian = await new LabContainer(labImage("debian:bullseye").ref)
      .withCommand(["sleep", "infinity"])
      .start();
    const result = await debian.exec(["bash", "-c", ". /etc/os-release && echo $ID $VERSION_CODENAME"]);
    expect(result).toMatchObject({ exitCode: 0, stdout: "debian bullseye\n" });
  });

  it("ubuntu:14.04 runs a shell command on the OS it declares", async () => {
    const image = labImage("ubuntu:14.04");
    await using ubuntu = await new LabContainer(image.ref).withCommand(["sleep", "infinity"]).start();
    const result = await ubuntu.exec(["bash", "-c", ". /etc/os-release && echo $PRETTY_NAME"]);
    expect(result).toMatchObject({ exitCode: 0, stdout: `${expectedOs(image).name}\n` });
  });
});
