import { randomBytes } from "node:crypto";
import { constants } from "node:os";
import type { StartedTestContainer } from "testcontainers";
import { request } from "undici";
import { describe, expect, test } from "vitest";
import { notApplicableOn } from "../helpers/lab/applicability.ts";
import { openBrowser } from "../helpers/lab/browser.ts";
import { httpAnswers, LabContainer, LOOPBACK, nameForRun } from "../helpers/lab/containers.ts";
import { dockerApi, labEngine, labRunner } from "../helpers/lab/engine.ts";
import { evidenceFile } from "../helpers/lab/evidence.ts";
import { hostListener } from "../helpers/lab/host-listener.ts";
import { labImage, normalizeReference } from "../helpers/lab/images.ts";
import { onBookPorts, publish } from "../helpers/lab/ports.ts";
import { startEarly } from "../helpers/lab/start-early.ts";

const image = labImage("nginx:1.18");
const webserverName = nameForRun("webserver1");
const GRACE_PERIOD_S = 10;
// nginx stops in well under a second on SIGQUIT; a stop that takes the grace period ended in SIGKILL.
const STOPPED_WITHIN_MS = 3_000;
const BOOK_PORT = 8001;
const WEB_ROOT = "/usr/share/nginx/html";

const webserver = async (name: string, bookPort?: number) =>
  new LabContainer(image.ref)
    .withName(name)
    .withExposedPorts(bookPort ? await publish(80, bookPort, "the nginx webserver") : 80)
    .withWaitStrategy(httpAnswers("/", 80));

// The stop step stops a webserver of its own, so that the other steps find theirs running in any order.
const lab = test
  .extend("webserverStart", { scope: "file", auto: true }, async ({}, hooks) =>
    startEarly(await webserver(webserverName, BOOK_PORT), hooks),
  )
  .extend("stoppableStart", { scope: "file", auto: true }, async ({}, hooks) =>
    startEarly(await webserver(nameForRun("webserver1-stopped")), hooks),
  )
  .extend("webserver", { scope: "file" }, ({ webserverStart }) => webserverStart.started)
  .extend("stoppable", { scope: "file" }, ({ stoppableStart }) => stoppableStart.started);

const pageUrl = (webserver: StartedTestContainer) => `http://${webserver.getHost()}:${webserver.getMappedPort(80)}/`;

// `GET path` sent to the container's own port 80 from inside it (bash's /dev/tcp): what the container serves there.
async function fetchInside(container: StartedTestContainer, path: string) {
  const script = `exec 3<>/dev/tcp/127.0.0.1/80 && printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`;
  const { exitCode, stdout } = await container.exec(["bash", "-c", script]);
  const [head = "", body = ""] = stdout.split("\r\n\r\n");
  return { exitCode, status: Number(head.match(/^HTTP\/1\.\d (\d{3})/)?.[1]), body };
}

interface EngineEvent {
  Action: string;
  timeNano: number;
  Actor: { Attributes: Record<string, string> };
}

// Docker 20.10 names a kill's signal by number ("3"), newer engines by name.
const signalName = (signal = "") =>
  Object.entries(constants.signals).find(([, number]) => String(number) === signal)?.[0] ?? signal;

// The engine's own record of a container's kill and die events, on its clock: what `docker events` shows.
async function containerEvents(docker: Awaited<ReturnType<typeof dockerApi>>, id: string) {
  const stream = await docker.getEvents({ filters: { container: [id], type: ["container"] } });
  const seen: EngineEvent[] = [];
  let partial = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    seen.push(...lines.filter(Boolean).map((line) => JSON.parse(line) as EngineEvent));
  });
  return {
    until: async (action: string): Promise<EngineEvent[]> => {
      await expect.poll(() => seen.map(({ Action }) => Action), { timeout: 5_000 }).toContain(action);
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      return seen.filter(({ Action }) => Action === "kill" || Action === action);
    },
  };
}

describe("Lab 3-3: nginx web server", { timeout: 60_000 }, () => {
  lab("docker pull nginx:1.18 && docker images", async ({ annotate }) => {
    const docker = await dockerApi();
    const listed = await docker.listImages({ filters: JSON.stringify({ reference: [image.ref] }) });
    expect(listed.map(({ Id }) => Id)).toEqual([image.id]);
    expect(listed[0]!.RepoTags?.map(normalizeReference)).toContain(normalizeReference(image.ref));
    await annotate(`${image.ref} ${image.id.slice(7, 19)} ${(listed[0]!.Size / 1e6).toFixed(0)} MB`);
  });

  lab("docker run --name webserver1 -d -p 8001:80 nginx:1.18", async ({ webserver, annotate }) => {
    const engine = labEngine();
    const info = await (await dockerApi()).getContainer(webserver.getId()).inspect();
    expect(info.Name).toBe(`/${webserverName}`);
    expect(info.State).toMatchObject({ Status: "running", Running: true });
    expect(info.Image).toBe(image.id);
    expect(info.Config).toMatchObject({ AttachStdin: false, AttachStdout: false, Tty: false, OpenStdin: false });
    const bindings = info.NetworkSettings.Ports["80/tcp"];
    expect(bindings).toEqual([
      { HostIp: engine.publishAddress, HostPort: onBookPorts() ? String(BOOK_PORT) : expect.stringMatching(/^\d+$/) },
    ]);
    const hostPort = bindings![0]!.HostPort;

    // A page only this container serves, put in its web root now: through the engine's forwarder on the published
    // host port, the same answer as on the container's own port 80.
    const page = `/labs-${randomBytes(6).toString("hex")}.txt`;
    const content = `${webserverName} ${randomBytes(6).toString("hex")}\n`;
    await webserver.copyContentToContainer([{ content, target: `${WEB_ROOT}${page}` }]);
    expect(await fetchInside(webserver, page), `GET ${page} on port 80 inside ${webserverName}`).toEqual({
      exitCode: 0,
      status: 200,
      body: content,
    });
    const response = await request(`http://${engine.publishAddress}:${hostPort}${page}`);
    const body = await response.body.text();
    expect({ status: response.statusCode, body }, `GET ${page} on ${engine.publishAddress}:${hostPort}`).toEqual({
      status: 200,
      body: content,
    });
    await annotate(
      `published ${engine.publishAddress}:${hostPort} -> 80/tcp, detached; ${page}, written into ${webserverName}'s ` +
        `web root, answers the same through ${engine.publishAddress}:${hostPort} as on port 80 inside it`,
    );
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
    expect(await page.locator("h1").textContent()).toBe("Welcome to nginx!");
    const screenshot = await evidenceFile("lab-3-3-nginx-welcome.png");
    await page.screenshot({ path: screenshot });
    await annotate(screenshot, "evidence", { path: screenshot, contentType: "image/png" });
  });

  lab("sudo lsof -i :8001", async ({ webserver, annotate, skip }) => {
    const [engine, runner] = [labEngine(), labRunner()];
    notApplicableOn(
      skip,
      engine.remote,
      `remote endpoint ${engine.endpoint}`,
      "the published port listens on the engine's host, and a tool on this runner sees only this machine's sockets",
    );
    const port = webserver.getMappedPort(80);
    const { NetworkSettings } = await (await dockerApi()).getContainer(webserver.getId()).inspect();
    const addresses = Object.values(NetworkSettings.Networks).map(({ IPAddress }) => `${IPAddress}:80`);
    const listener = await hostListener(port, runner);
    await annotate(`${listener.tool}: ${listener.evidence}`);
    expect(listener.listen, listener.evidence).toBe(`${LOOPBACK}:${port}`);
    expect(listener.forwarder, `a forwarder known on ${runner.platform}: ${listener.evidence}`).toBeDefined();
    if (listener.unseen)
      await annotate(`where ${listener.forwarder} forwards is not for this tool to see: ${listener.unseen}`);
    else expect(addresses, listener.evidence).toContain(listener.to);

    const response = await request(`http://${LOOPBACK}:${port}/`);
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toContain("<title>Welcome to nginx!</title>");
    await annotate(
      `${listener.forwarder} forwards to ${webserverName}${listener.to ? ` at ${listener.to}` : ""}; ` +
        `GET / through it: HTTP ${response.statusCode}`,
    );
  });

  lab("docker stop webserver1", async ({ stoppable, annotate }) => {
    const docker = await dockerApi();
    const container = docker.getContainer(stoppable.getId());
    const { Config } = await container.inspect();
    // Podman reports the stop signal by its number ("3"), as Docker 20.10 does a kill's.
    expect(signalName((Config as { StopSignal?: string }).StopSignal)).toBe("SIGQUIT");
    const events = await containerEvents(docker, stoppable.getId());
    const asked = performance.now();
    await container.stop({ t: GRACE_PERIOD_S });
    const stopCallMs = performance.now() - asked;
    const kills = await events.until("die");
    const died = kills.pop()!;
    const signals = kills.map(({ Actor }) => signalName(Actor.Attributes.signal));
    // Podman 4.3 records no kill event for a stop (its events are died, stop, cleanup): it sends the StopSignal above,
    // and the time is the stop's own, from the request to its answer, which comes once the container has exited.
    const podman = labEngine().product === "Podman";
    const tookMs = podman ? stopCallMs : (died.timeNano - kills[0]!.timeNano) / 1e6;
    const sent = podman ? "no kill event (Podman records none for a stop)" : signals.map((signal) => `kill ${signal}`);
    await annotate(
      `engine events: ${[sent].flat().join(", ")}, die exitCode ${died.Actor.Attributes.exitCode} ` +
        `${(tookMs / 1000).toFixed(2)} s after ${podman ? "the stop request" : "the first signal"}, of the ` +
        `${GRACE_PERIOD_S} s grace period (docker stop answered after ${(stopCallMs / 1000).toFixed(2)} s)`,
    );
    expect(signals, "signals the engine sent").toEqual(podman ? [] : ["SIGQUIT"]);
    expect(tookMs, "milliseconds from SIGQUIT to exit").toBeLessThan(STOPPED_WITHIN_MS);
    const { State } = await container.inspect();
    expect(State).toMatchObject({ Running: false, ExitCode: 0, OOMKilled: false });
  });
});
