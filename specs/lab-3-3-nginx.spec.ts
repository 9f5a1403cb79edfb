import { execFile } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";
import { constants, userInfo } from "node:os";
import { promisify } from "node:util";
import type { StartedTestContainer } from "testcontainers";
import { request } from "undici";
import { describe, expect, test } from "vitest";
import { openBrowser } from "../helpers/lab/browser.ts";
import { httpAnswers, LabContainer, LOOPBACK, nameForRun } from "../helpers/lab/containers.ts";
import { dockerApi, labEngine } from "../helpers/lab/engine.ts";
import { evidenceFile } from "../helpers/lab/evidence.ts";
import { labImage, normalizeReference } from "../helpers/lab/images.ts";
import { publish } from "../helpers/lab/ports.ts";
import { startEarly } from "../helpers/lab/start-early.ts";

const image = labImage("nginx:1.18");
const webserverName = nameForRun("webserver1");
const GRACE_PERIOD_S = 10;
// nginx stops in well under a second on SIGQUIT; a stop that takes the grace period ended in SIGKILL.
const STOPPED_WITHIN_MS = 3_000;

const webserver = async (name: string, bookPort?: number) =>
  new LabContainer(image.ref)
    .withName(name)
    .withExposedPorts(bookPort ? await publish(80, bookPort, "the nginx webserver") : 80)
    .withWaitStrategy(httpAnswers("/", 80));

// The stop step stops a webserver of its own, so that the other steps find theirs running in any order.
const lab = test
  .extend("webserverStart", { scope: "file", auto: true }, async ({}, hooks) =>
    startEarly(await webserver(webserverName, 8001), hooks),
  )
  .extend("stoppableStart", { scope: "file", auto: true }, async ({}, hooks) =>
    startEarly(await webserver(nameForRun("webserver1-stopped")), hooks),
  )
  .extend("webserver", { scope: "file" }, ({ webserverStart }) => webserverStart.started)
  .extend("stoppable", { scope: "file" }, ({ stoppableStart }) => stoppableStart.started);

const pageUrl = (webserver: StartedTestContainer) => `http://${webserver.getHost()}:${webserver.getMappedPort(80)}/`;

interface Forwarder {
  listen?: string;
  to?: string;
  evidence: string;
}

// /proc/net/tcp writes 127.0.0.1:8001 as 0100007F:1F41; state 0A is LISTEN.
async function listeningInode(address: string, port: number): Promise<string | undefined> {
  const hex = address
    .split(".")
    .reverse()
    .map((octet) => Number(octet).toString(16).padStart(2, "0"))
    .join("");
  const local = `${hex}:${port.toString(16).padStart(4, "0")}`.toUpperCase();
  const rows = (await readFile("/proc/net/tcp", "utf8")).split("\n").map((line) => line.trim().split(/\s+/));
  return rows.find((fields) => fields[1] === local && fields[3] === "0A")?.[9];
}

interface Process {
  pid: string;
  args: string[];
}

async function processes(): Promise<Process[]> {
  const pids = (await readdir("/proc")).filter((entry) => /^\d+$/.test(entry));
  const read = (pid: string) => readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return Promise.all(pids.map(async (pid) => ({ pid, args: (await read(pid)).split("\0").filter(Boolean) })));
}

// Whether a process holds a socket among its descriptors; "hidden" when this user may not read them.
async function holds({ pid }: Process, inode: string): Promise<boolean | "hidden"> {
  const fds = await readdir(`/proc/${pid}/fd`).catch((error: NodeJS.ErrnoException) => String(error.code));
  if (typeof fds === "string") return fds === "EACCES" ? "hidden" : false;
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")));
  return links.includes(`socket:[${inode}]`);
}

function flags(args: string[]): Record<string, string> {
  return Object.fromEntries(
    args.flatMap((arg, index) => (/^-{1,2}[a-z]/.test(arg) ? [[arg.replace(/^-+/, ""), args[index + 1] ?? ""]] : [])),
  );
}

function asProxy({ pid, args }: Process, how: string): Forwarder {
  const proxy = flags(args);
  return {
    ...(args[0]?.endsWith("docker-proxy")
      ? {
          listen: `${proxy["host-ip"]}:${proxy["host-port"]}`,
          to: `${proxy["container-ip"]}:${proxy["container-port"]}`,
        }
      : {}),
    evidence: `pid ${pid} ${how}: ${args.join(" ")}`,
  };
}

async function natRule(port: number): Promise<Forwarder> {
  const listed = await promisify(execFile)("iptables", ["-t", "nat", "-S", "DOCKER"]).catch((error: Error) => error);
  if (listed instanceof Error) {
    return {
      evidence: `nothing listens on ${LOOPBACK}:${port}, and iptables -t nat -S DOCKER failed: ${listed.message}`,
    };
  }
  const rule = listed.stdout.split("\n").find((line) => line.includes(`--dport ${port} `) && line.includes("DNAT"));
  if (!rule) return { evidence: `nothing listens on ${LOOPBACK}:${port}, and no DNAT rule for it in iptables -t nat` };
  return {
    listen: `${rule.match(/-d (\S+?)(\/32)? /)?.[1]}:${port}`,
    to: rule.match(/--to-destination (\S+)/)?.[1],
    evidence: `iptables -t nat: ${rule}`,
  };
}

// What `lsof -i :PORT` answers, from /proc: the process that holds the listening socket, looked for among the
// engine's proxies first. Without root their descriptors are hidden, but not their command lines; with the userland
// proxy disabled, the engine forwards by a NAT rule instead.
async function forwarderOf(port: number): Promise<Forwarder> {
  const inode = await listeningInode(LOOPBACK, port);
  if (!inode) return natRule(port);
  const all = await processes();
  const proxies = all.filter(({ args }) => args[0]?.endsWith("docker-proxy") && flags(args)["host-port"] === `${port}`);
  const uid = userInfo().uid;
  for (const proxy of proxies) {
    const held = await holds(proxy, inode);
    if (held === true) return asProxy(proxy, `holds the socket (inode ${inode})`);
    if (held === "hidden")
      return asProxy(proxy, `is the proxy for that port (its descriptors are hidden from uid ${uid})`);
  }
  const everyone = await Promise.all(all.map(async (candidate) => [candidate, await holds(candidate, inode)] as const));
  const owner = everyone.find(([, held]) => held === true)?.[0];
  if (owner) return asProxy(owner, `holds the socket (inode ${inode})`);
  const hidden = everyone.filter(([, held]) => held === "hidden").length;
  return {
    evidence:
      `a socket listens on ${LOOPBACK}:${port} (inode ${inode}), but no process this user (uid ${uid}) may read ` +
      `holds it and ${hidden} processes' descriptors are hidden: run as root, as the book's sudo lsof does`,
  };
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
    const info = await (await dockerApi()).getContainer(webserver.getId()).inspect();
    expect(info.Name).toBe(`/${webserverName}`);
    expect(info.State).toMatchObject({ Status: "running", Running: true });
    expect(info.Image).toBe(image.id);
    expect(info.Config).toMatchObject({ AttachStdin: false, AttachStdout: false, Tty: false, OpenStdin: false });
    expect(info.NetworkSettings.Ports["80/tcp"]).toEqual([
      { HostIp: labEngine().publishAddress, HostPort: String(webserver.getMappedPort(80)) },
    ]);
    await annotate(`published ${labEngine().publishAddress}:${webserver.getMappedPort(80)} -> 80/tcp, detached`);
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

  lab("sudo lsof -i :8001", async ({ webserver, annotate }) => {
    const port = webserver.getMappedPort(80);
    const { NetworkSettings } = await (await dockerApi()).getContainer(webserver.getId()).inspect();
    const addresses = Object.values(NetworkSettings.Networks).map(({ IPAddress }) => `${IPAddress}:80`);
    const forwarder = await forwarderOf(port);
    await annotate(`${LOOPBACK}:${port} (LISTEN): ${forwarder.evidence}`);
    expect(forwarder.listen, forwarder.evidence).toBe(`${LOOPBACK}:${port}`);
    expect(addresses, forwarder.evidence).toContain(forwarder.to);

    const response = await request(`http://${LOOPBACK}:${port}/`);
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toContain("<title>Welcome to nginx!</title>");
    await annotate(`forwards to ${webserverName} at ${forwarder.to}; GET / through it: HTTP ${response.statusCode}`);
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
