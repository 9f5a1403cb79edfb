import { Wait } from "testcontainers";
import { request } from "undici";
import { describe, expect, it } from "vitest";
import { httpAnswers, LabContainer } from "../helpers/lab/containers.ts";
import { labImage } from "../helpers/lab/images.ts";

async function get(url: string) {
  const response = await request(url);
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

// The labs already start the other images and prove the same of them (nginx's page: Lab 3-3's curl step; MySQL's
// SELECT 1 over its port: Lab 3-1's docker run step; cAdvisor's /healthz: Lab 3-2's docker run step; ubuntu's
// os-release: Lab 3.2.2's first step), so a run starts each of them once. No lab runs python's `python` command.
describe("Smoke: what no lab asserts of its images", { timeout: 120_000, concurrent: true }, () => {
  it("httpd:2.4 serves its default page over HTTP", async () => {
    await using httpd = await new LabContainer(labImage("httpd:2.4").ref)
      .withExposedPorts(80)
      .withWaitStrategy(httpAnswers("/", 80))
      .start();
    const page = await get(`http://${httpd.getHost()}:${httpd.getMappedPort(80)}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("It works!");
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
});
