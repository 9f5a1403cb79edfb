import { connect } from "node:net";
import type { StartedTestContainer } from "testcontainers";
import { request } from "undici";
import { describe, expect, test } from "vitest";
import { openBrowser } from "../helpers/lab/browser.ts";
import { httpAnswers, LabContainer, LOOPBACK, nameForRun, startForFile } from "../helpers/lab/containers.ts";
import { dockerApi } from "../helpers/lab/engine.ts";
import { evidenceFile } from "../helpers/lab/evidence.ts";
import { labImage, normalizeReference } from "../helpers/lab/images.ts";
import { publish } from "../helpers/lab/ports.ts";

const image = labImage("nginx:1.18");
const webserverName = nameForRun("webserver1");

const lab = test.extend("webserver", { scope: "file" }, async ({}, hooks) =>
  startForFile(
    new LabContainer(image.ref)
      .withName(webserverName)
      .withExposedPorts(await publish(80, 8001, "the nginx webserver"))
      .withWaitStrategy(httpAnswers("/", 80)),
    hooks,
  ),
);

const pageUrl = (webserver: StartedTestContainer) => `http://${webserver.getHost()}:${webserver.getMappedPort(80)}/`;

describe("Lab 3-3: nginx web server", { timeout: 60_000 }, () => {
  lab("docker pull nginx:1.18 && docker images", async ({ annotate }) => {
    const docker = await dockerApi();
    const listed = await docker.listImages({ filters: JSON.stringify({ reference: [image.ref] }) });
    expect(listed.map(({ Id }) => Id)).toEqual([image.id]);
    expect(listed[0]!.RepoTags?.map(normalizeReference)).toContain(normalizeReference(image.ref));
    await annotate(`${image.ref} ${image.id.slice(7, 19)} ${(listed[0]!.Size / 1e6).toFixed(0)} MB`);
  });

  lab("docker run --name webserver1 -d -p 8001:80 nginx:1.18", async ({ webserver, annotate }) => {
    const info = await (await dockerApi()).getContainer(webserver.getId()).inspect();
    expect(info.Name).toBe(`/${webserverName}`);
    expect(info.State).toMatchObject({ Status: "running", Running: true });
    expect(info.Image).toBe(image.id);
    expect(info.Config).toMatchObject({ AttachStdin: false, Tty: false, OpenStdin: false });
    expect(info.NetworkSettings.Ports["80/tcp"]).toEqual([
      { HostIp: LOOPBACK, HostPort: String(webserver.getMappedPort(80)) },
    ]);
    await annotate(`published ${LOOPBACK}:${webserver.getMappedPort(80)} -> 80/tcp`);
  });

  lab("curl -i http://localhost:8001/", async ({ webserver, annotate }) => {
    const response = await request(pageUrl(webserver));
    const body = await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(response.headers.server).toBe("nginx/1.18.0");
    expect(body).toContain("<title>Welcome to nginx!</title>");
    await annotate(`HTTP ${response.statusCode}, Server: ${response.headers.server}`);
  });

  lab("open http://localhost:8001/ in a browser", async ({ webserver, annotate, skip }) => {
    await using browser = await openBrowser(skip);
    const page = await browser.newPage();
    await page.goto(pageUrl(webserver));
    expect(await page.title()).toBe("Welcome to nginx!");
    await expect.poll(() => page.locator("h1").textContent()).toBe("Welcome to nginx!");
    const screenshot = await evidenceFile("lab-3-3-nginx-welcome.png");
    await page.screenshot({ path: screenshot });
    await annotate(screenshot, "evidence");
  });

  lab("sudo lsof -i :8001", async ({ webserver, annotate }) => {
    const port = webserver.getMappedPort(80);
    const socket = connect(port, LOOPBACK);
    await expect(
      new Promise((resolve, reject) => socket.once("connect", () => resolve("listening")).once("error", reject)),
    ).resolves.toBe("listening");
    socket.destroy();
    const info = await (await dockerApi()).getContainer(webserver.getId()).inspect();
    expect(info.HostConfig.PortBindings).toEqual({ "80/tcp": [{ HostIp: LOOPBACK, HostPort: expect.any(String) }] });
    expect(info.NetworkSettings.Ports["80/tcp"]?.[0]).toEqual({ HostIp: LOOPBACK, HostPort: String(port) });
    await annotate(`${LOOPBACK}:${port} (LISTEN) -> ${webserverName} 80/tcp`);
  });

  lab("docker stop webserver1", async ({ webserver, annotate }) => {
    const container = (await dockerApi()).getContainer(webserver.getId());
    const { Config } = await container.inspect();
    expect((Config as { StopSignal?: string }).StopSignal).toBe("SIGQUIT");
    await container.stop({ t: 10 });
    const { State } = await container.inspect();
    expect(State).toMatchObject({ Running: false, ExitCode: 0, OOMKilled: false });
    await annotate(
      `stopped by SIGQUIT with exit code ${State.ExitCode} (a SIGKILL after the 10 s grace period would be 137)`,
    );
  });
});
