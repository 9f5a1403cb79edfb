// A private Docker engine (20.10 or 28) running beside the machine's default one without disturbing it: its own
// socket, data root, exec root, managed containerd, bridge, address pool and cgroup subtree.
//
// node scripts/private-engine.ts install
// node scripts/private-engine.ts start --name X --engine docker20|docker28 [--containerd-store] [--registry-mirror URL]
// node scripts/private-engine.ts stop --name X
// node scripts/private-engine.ts copy [--from HOST] --to HOST REF...
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { DOCKER28_DIR, ensureDocker28 } from "./private-engine-docker28.ts";

export { ensureDocker28 };
export type EngineKind = "docker20" | "docker28";
export interface EngineOptions {
  name: string;
  engine: EngineKind;
  containerdStore?: boolean;
  registryMirror?: string;
  quiet?: boolean;
}
export interface PrivateEngine extends AsyncDisposable {
  name: string;
  host: string;
  socket: string;
  dataRoot: string;
  pid: number;
  stop(): Promise<void>;
}

// cgroup v1 has a tree per controller; the pids tree (or v2's single tree) lists every process of the engine.
const CGROUP = "/sys/fs/cgroup";
const V2 = existsSync(`${CGROUP}/cgroup.controllers`);
const PIDS_TREE = V2 ? CGROUP : `${CGROUP}/pids`;

function layout(name: string) {
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) throw new Error(`engine name "${name}": use 1-32 of a-z 0-9 _ -`);
  const run = `/run/labs-engines/${name}`;
  const tag = createHash("sha256").update(name).digest("hex").slice(0, 8);
  // Interface names are limited to 15 characters, so the bridge is named by a hash of the engine's name.
  return { run, socket: `${run}/docker.sock`, pidfile: `${run}/docker.pid`, log: `${run}/dockerd.log`, tag,
    dataRoot: `/var/lib/labs-engines/${name}`, bridge: `labs-${tag}`, cgroup: `labs-engines/${name}` }; // prettier-ignore
}

const ping = (socket: string) =>
  new Promise<boolean>((resolve) => {
    const req = request({ socketPath: socket, path: "/_ping", timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false)).on("timeout", () => req.destroy());
    req.end();
  });

function cgroupPids(cgroup: string): number[] {
  const root = join(PIDS_TREE, cgroup);
  if (!existsSync(root)) return [];
  const dirs = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isDirectory());
  return [root, ...dirs.map((e) => join(e.parentPath, e.name))].flatMap((d) =>
    readFileSync(join(d, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number),
  );
}

// A /16 per engine, for its bridge (first /24) and its networks: one that no route on the machine touches yet.
function freeSlot(tag: string): number {
  const routes = execFileSync("ip", ["-4", "route", "show", "table", "all"], { encoding: "utf8" });
  for (let i = 0; i < 200; i++) {
    const n = 16 + ((parseInt(tag, 16) + i) % 200);
    if (!new RegExp(`\\b10\\.${n}\\.`).test(routes)) return n;
  }
  throw new Error("no free 10.x.0.0/16 left for a private engine");
}

export async function startPrivateEngine(o: EngineOptions): Promise<PrivateEngine> {
  const p = layout(o.name);
  const say = (line: string) => o.quiet || console.error(`${o.name}: ${line}`);
  if (await ping(p.socket)) throw new Error(`engine ${o.name} already answers on ${p.socket}: stop it first`);
  if (o.engine === "docker20" && o.containerdStore) throw new Error("docker20 has no containerd image store");
  // dockerd only starts a containerd of its own when none answers at the system's default address.
  if (existsSync("/run/containerd/containerd.sock")) throw new Error("a system containerd runs: it would be shared");
  if (o.engine === "docker28") ensureDocker28();
  await stopPrivateEngine(o.name, true);
  const started = performance.now();
  const n = freeSlot(p.tag);
  execFileSync("ip", ["link", "add", p.bridge, "type", "bridge"]);
  execFileSync("ip", ["addr", "add", `10.${n}.0.1/24`, "dev", p.bridge]);
  execFileSync("ip", ["link", "set", p.bridge, "up"]);
  // br_netfilter sends bridged frames through FORWARD, whose policy the default engine set to DROP.
  execFileSync("iptables", ["-A", "FORWARD", ...["-s", `10.${n}.0.0/16`, "-d", `10.${n}.0.0/16`], ...comment(o.name)]);
  mkdirSync(p.dataRoot, { recursive: true });
  mkdirSync(`${p.run}/exec`, { recursive: true });
  mkdirSync(join(PIDS_TREE, p.cgroup, "daemon"), { recursive: true });
  const config = {
    features: { "containerd-snapshotter": Boolean(o.containerdStore) },
    "registry-mirrors": o.registryMirror ? [o.registryMirror] : [],
    "default-address-pools": [{ base: `10.${n}.0.0/16`, size: 24 }],
  };
  writeFileSync(`${p.run}/daemon.json`, JSON.stringify(config, null, 2));
  const bins = o.engine === "docker28" ? DOCKER28_DIR : "/usr/sbin";
  const args = [
    ...["--config-file", `${p.run}/daemon.json`, "--host", `unix://${p.socket}`, "--pidfile", p.pidfile],
    ...["--data-root", p.dataRoot, "--exec-root", `${p.run}/exec`, "--bridge", p.bridge],
    // The default engine owns the DOCKER chains; two engines writing them would undo each other's rules.
    ...["--iptables=false", "--ip6tables=false", "--userland-proxy-path", `${bins}/docker-proxy`],
    // Apart from the default engine's /docker, so neither engine (nor cAdvisor) mistakes the other's containers.
    ...["--cgroup-parent", `/${p.cgroup}`],
  ];
  const log = openSync(p.log, "a");
  // Joining the cgroup before exec puts dockerd and all it spawns (containerd, shims, proxies) where stop finds them.
  const script = 'echo $$ > "$0" && exec "$@"';
  const child = spawn(
    "sh",
    ["-c", script, join(PIDS_TREE, p.cgroup, "daemon", "cgroup.procs"), `${bins}/dockerd`, ...args],
    {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, PATH: `${bins}:${process.env.PATH}` },
    },
  );
  child.unref();
  closeSync(log);
  for (const deadline = Date.now() + 60_000; !(await ping(p.socket)); await sleep(100)) {
    if (child.exitCode === null && Date.now() < deadline) continue;
    console.error(readFileSync(p.log, "utf8").trimEnd().split("\n").slice(-20).join("\n"));
    const why = child.exitCode === null ? "did not answer a ping within 60 s" : `exited with ${child.exitCode}`;
    await stopPrivateEngine(o.name, true);
    throw new Error(`${o.engine} engine ${o.name} ${why} (its log's last lines are above)`);
  }
  say(`${o.engine} answers on unix://${p.socket} after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const stop = () => stopPrivateEngine(o.name, o.quiet);
  return { name: o.name, host: `unix://${p.socket}`, socket: p.socket, dataRoot: p.dataRoot, pid: child.pid!, stop,
    [Symbol.asyncDispose]: stop }; // prettier-ignore
}

const comment = (name: string) => ["-m", "comment", "--comment", `labs-engine:${name}`, "-j", "ACCEPT"];

/** Stops the engine named `name` (SIGTERM, then SIGKILL after 30 s) and removes all it left: mounts, bridge, data. */
export async function stopPrivateEngine(name: string, quiet = false): Promise<void> {
  const p = layout(name);
  const started = performance.now();
  const pid = existsSync(p.pidfile) ? Number(readFileSync(p.pidfile, "utf8")) : 0;
  // A stale pidfile may name a recycled pid: only a process in the engine's cgroup is its dockerd.
  if (pid && cgroupPids(p.cgroup).includes(pid)) process.kill(pid, "SIGTERM");
  for (const deadline = Date.now() + 30_000; cgroupPids(p.cgroup).includes(pid) && Date.now() < deadline;)
    await sleep(100);
  for (let left = cgroupPids(p.cgroup), tries = 0; left.length; await sleep(100), left = cgroupPids(p.cgroup)) {
    if (++tries > 100) throw new Error(`engine ${name}: processes ${left.join(" ")} survive SIGKILL`);
    for (const stray of left) spawnSync("kill", ["-KILL", String(stray)]);
  }
  const mounts = execFileSync("findmnt", ["-rn", "-o", "TARGET"], { encoding: "utf8" }).split("\n");
  for (const m of mounts
    .filter((m) => [p.run, p.dataRoot].some((r) => m.startsWith(`${r}/`)))
    .sort()
    .reverse()) {
    if (spawnSync("umount", [m]).status !== 0) spawnSync("umount", ["-l", m]);
  }
  spawnSync("ip", ["link", "del", p.bridge], { stdio: "ignore" });
  for (const rule of execFileSync("iptables", ["-S", "FORWARD"], { encoding: "utf8" }).split("\n")) {
    const args = rule.replaceAll('"', "").split(" ");
    if (args[0] === "-A" && rule.includes(`labs-engine:${name} `)) execFileSync("iptables", ["-D", ...args.slice(1)]);
  }
  rmSync(p.dataRoot, { recursive: true, force: true });
  rmSync(p.run, { recursive: true, force: true });
  for (const tree of V2 ? [CGROUP] : readdirSync(CGROUP).map((d) => join(CGROUP, d))) {
    const root = join(tree, p.cgroup);
    if (!existsSync(root)) continue;
    const dirs = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isDirectory());
    for (const d of [
      ...dirs
        .map((e) => join(e.parentPath, e.name))
        .sort()
        .reverse(),
      root,
    ])
      rmdirSync(d);
  }
  if (!quiet) console.error(`${name}: stopped and removed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Streams `docker save` from one engine into `docker load` of another: no registry can be pulled from here. */
export async function copyImages(fromHost: string, toHost: string, refs: string[]): Promise<void> {
  if (!refs.length) throw new Error("copyImages: name at least one image");
  const save = spawn("docker", ["-H", fromHost, "save", ...refs], { stdio: ["ignore", "pipe", "inherit"] });
  const load = spawn("docker", ["-H", toHost, "load", "-q"], { stdio: [save.stdout, 2, "inherit"] });
  const codes = await Promise.all([save, load].map((c) => new Promise((done) => c.on("close", done))));
  if (codes.some((c) => c !== 0)) throw new Error(`copying ${refs.join(" ")} to ${toHost} failed (save/load ${codes})`);
}

async function cli(command: string | undefined, rest: string[]): Promise<void> {
  const flags = {
    install: {},
    start: { name: { type: "string" }, engine: { type: "string" }, "containerd-store": { type: "boolean" },
      "registry-mirror": { type: "string" }, quiet: { type: "boolean" } }, // prettier-ignore
    stop: { name: { type: "string" } },
    copy: { from: { type: "string", default: "unix:///var/run/docker.sock" }, to: { type: "string" } },
  } as const;
  if (!command || !(command in flags)) throw new Error(`usage: private-engine.ts ${Object.keys(flags).join("|")} ...`);
  const cmd = command as keyof typeof flags;
  const parsed = parseArgs({ args: rest, options: flags[cmd], allowPositionals: cmd === "copy" });
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const need = (key: string): string => {
    const value = v[key];
    if (typeof value !== "string") throw new Error(`${cmd} needs --${key}`);
    return value;
  };
  if (cmd === "install") ensureDocker28();
  if (cmd === "stop") await stopPrivateEngine(need("name"));
  if (cmd === "copy") await copyImages(need("from"), need("to"), parsed.positionals);
  if (cmd === "start") {
    const engine = need("engine");
    if (engine !== "docker20" && engine !== "docker28") throw new Error("--engine is docker20 or docker28");
    const mirror = v["registry-mirror"] as string | undefined;
    const options = {
      containerdStore: v["containerd-store"] === true,
      registryMirror: mirror,
      quiet: v.quiet === true,
    };
    console.log(`DOCKER_HOST=${(await startPrivateEngine({ name: need("name"), engine, ...options })).host}`);
  }
}

if (import.meta.main) {
  await cli(process.argv[2], process.argv.slice(3)).catch((error: Error) => {
    console.error(`private-engine: ${error.message}`);
    process.exitCode = 1;
  });
}
