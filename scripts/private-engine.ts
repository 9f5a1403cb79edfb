// A private Docker engine (20.10 or 28) beside the machine's default one, without disturbing it: a socket, data root,
// exec root, managed containerd, bridge, address pool and cgroup subtree of its own. The host side is in
// private-engine-host.ts.
//
// node scripts/private-engine.ts install
// node scripts/private-engine.ts start --name X --engine docker20|docker28 [--containerd-store] [--registry-mirror URL]
// node scripts/private-engine.ts stop --name X
// node scripts/private-engine.ts copy [--from HOST] --to HOST REF...
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { imageArchive } from "../helpers/engine/archive.ts";
import { dockerApiAt, engineAnswers } from "../helpers/engine/hosts.ts";
import { followProgress } from "../helpers/engine/progress.ts";
import { addNetwork, cgroupPids, DOCKER28_DIR, ensureDocker28, PIDS_TREE } from "./private-engine-host.ts";
import { removeCgroups, removeNetwork, unmountUnder } from "./private-engine-host.ts";

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
  /** SIGTERM is a restart (running requests finish); SIGKILL a crash (every connection drops at once). */
  interrupt(downFor: number | (() => Promise<unknown>), signal?: NodeJS.Signals): Promise<void>;
}

const RUN_DIRS = "/run/labs-engines";
const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

/** The engine beside which private engines run, and whose stand-ins they are given: DOCKER_HOST, else the socket. */
export const defaultEngineHost = () => process.env.DOCKER_HOST ?? DEFAULT_SOCKET;

/** The engines started and not yet stopped, by name: a killed owner leaves its engine running. */
export function privateEngineNames(): string[] {
  return existsSync(RUN_DIRS) ? readdirSync(RUN_DIRS) : [];
}

function layout(name: string) {
  if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(name)) throw new Error(`engine name "${name}": use 1-32 of a-z 0-9 _ -`);
  const run = `${RUN_DIRS}/${name}`;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return {
    run,
    socket: `${run}/docker.sock`,
    dataRoot: `/var/lib/labs-engines/${name}`,
    bridge: `labs-${hash}`, // interface names end at 15 characters, engine names may not
    seed: parseInt(hash, 16),
    cgroup: `labs-engines/${name}`,
    rule: `labs-engine:${name}`,
  };
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

const ping = (socket: string) => engineAnswers(`unix://${socket}`, 2000);

export async function startPrivateEngine(o: EngineOptions): Promise<PrivateEngine> {
  const p = layout(o.name);
  if (await ping(p.socket)) throw new Error(`engine ${o.name} already answers on ${p.socket}: stop it first`);
  if (o.engine === "docker20" && o.containerdStore) throw new Error("docker20 has no containerd image store");
  // dockerd starts a containerd of its own only when none listens at the system's default address.
  if (existsSync("/run/containerd/containerd.sock"))
    throw new Error("a system containerd runs: engines would share it");
  if (o.engine === "docker28") ensureDocker28(o.quiet);
  await stopPrivateEngine(o.name, true); // what a killed run left
  const started = performance.now();
  const pool = addNetwork(p.bridge, p.seed, p.rule);
  mkdirSync(p.dataRoot, { recursive: true });
  mkdirSync(`${p.run}/exec`, { recursive: true });
  mkdirSync(`${PIDS_TREE}/${p.cgroup}/daemon`, { recursive: true });
  const config = {
    features: { "containerd-snapshotter": Boolean(o.containerdStore) },
    "registry-mirrors": o.registryMirror ? [o.registryMirror] : [],
    "default-address-pools": [{ base: pool, size: 24 }],
    // Restarting with address pools and without live-restore, dockerd deletes the host's docker0 whatever --bridge
    // says: the default engine's bridge, under its running containers.
    "live-restore": true,
  };
  writeFileSync(`${p.run}/daemon.json`, JSON.stringify(config, null, 2));
  const bin = o.engine === "docker28" ? DOCKER28_DIR : "/usr/sbin";
  const args = [
    ...["--config-file", `${p.run}/daemon.json`, "--host", `unix://${p.socket}`, "--pidfile", `${p.run}/docker.pid`],
    ...["--data-root", p.dataRoot, "--exec-root", `${p.run}/exec`, "--bridge", p.bridge],
    // The default engine owns the DOCKER chains: two engines writing them would undo each other's rules.
    ...["--iptables=false", "--ip6tables=false", "--userland-proxy-path", `${bin}/docker-proxy`],
    // Not the default engine's /docker, so that neither engine (nor a cAdvisor) takes the other's containers for its own.
    ...["--cgroup-parent", `/${p.cgroup}`],
  ];
  // Joining the cgroup before exec puts dockerd and all it spawns (containerd, shims, proxies) where stop finds them.
  const joinCgroup = ['echo $$ > "$0" && exec "$@"', `${PIDS_TREE}/${p.cgroup}/daemon/cgroup.procs`];
  // dockerd finds containerd, the shim and runc on its PATH.
  const env = { ...process.env, PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` };
  const launch = async () => {
    const log = openSync(`${p.run}/dockerd.log`, "a");
    const child = spawn("sh", ["-c", ...joinCgroup, `${bin}/dockerd`, ...args], {
      detached: true,
      stdio: ["ignore", log, log],
      env,
    });
    child.unref();
    closeSync(log);
    for (const deadline = Date.now() + 60_000; !(await ping(p.socket)); await sleep(100)) {
      if (child.exitCode === null && Date.now() < deadline) continue;
      console.error(readFileSync(`${p.run}/dockerd.log`, "utf8").trimEnd().split("\n").slice(-20).join("\n"));
      const why = child.exitCode === null ? "did not answer a ping within 60 s" : `exited with ${child.exitCode}`;
      await stopPrivateEngine(o.name, true);
      throw new Error(`${o.engine} engine ${o.name} ${why} (the last lines of its log are above)`);
    }
    return child;
  };
  const child = await launch();
  if (!o.quiet) console.error(`${o.name}: ${o.engine} answers on unix://${p.socket} after ${seconds(started)}`);
  const stop = () => stopPrivateEngine(o.name, o.quiet);
  // A restart or a crash as a user meets it: dockerd goes away for a while, then comes back on the same data.
  // Down for a time, or until `downFor` resolves: a spec that needs its run to end before the engine returns says so.
  const interrupt = async (downFor: number | (() => Promise<unknown>), signal: NodeJS.Signals = "SIGTERM") => {
    const pid = Number(readFileSync(`${p.run}/docker.pid`, "utf8"));
    process.kill(pid, signal);
    while (cgroupPids(p.cgroup).includes(pid)) await sleep(50);
    await (typeof downFor === "number" ? sleep(downFor) : downFor());
    await launch();
  };
  const engine = { name: o.name, host: `unix://${p.socket}`, socket: p.socket, dataRoot: p.dataRoot, pid: child.pid! };
  return { ...engine, stop, interrupt, [Symbol.asyncDispose]: stop };
}

/** Stops engine `name` (SIGTERM; SIGKILL for all it spawned after 30 s) and removes all it left: mounts, bridges, data. */
export async function stopPrivateEngine(name: string, quiet = false): Promise<void> {
  const p = layout(name);
  const started = performance.now();
  const pid = Number(existsSync(`${p.run}/docker.pid`) && readFileSync(`${p.run}/docker.pid`, "utf8"));
  // A stale pidfile may name a recycled pid: only a process in the engine's cgroup is its dockerd.
  if (pid && cgroupPids(p.cgroup).includes(pid)) process.kill(pid, "SIGTERM");
  for (const end = Date.now() + 30_000; cgroupPids(p.cgroup).includes(pid) && Date.now() < end;) await sleep(100);
  for (let left = cgroupPids(p.cgroup), tries = 0; left.length; await sleep(100), left = cgroupPids(p.cgroup)) {
    if (++tries > 100) throw new Error(`engine ${name}: processes ${left.join(" ")} survive SIGKILL`);
    for (const stray of left) spawnSync("kill", ["-KILL", String(stray)]);
  }
  unmountUnder([p.run, p.dataRoot]);
  removeNetwork(p.bridge, p.rule);
  rmSync(p.dataRoot, { recursive: true, force: true });
  rmSync(p.run, { recursive: true, force: true });
  removeCgroups(p.cgroup);
  if (!quiet) console.error(`${name}: stopped and removed in ${seconds(started)}`);
}

/** Streams one engine's image archive into another engine: no registry can be pulled from here. */
export async function copyImages(fromHost: string, toHost: string, refs: string[]): Promise<void> {
  if (!refs.length) throw new Error("copyImages: name at least one image");
  const [from, to] = [dockerApiAt(fromHost), dockerApiAt(toHost)];
  try {
    // One archive for all refs, as `docker save a b` makes it: their shared layers travel once.
    const archive = await imageArchive(from, refs);
    await followProgress(to, (await to.loadImage(archive, { quiet: true })) as NodeJS.ReadableStream);
  } catch (error) {
    throw new Error(`copying ${refs.join(" ")} from ${fromHost} to ${toHost} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function cli(command = "", args: string[]): Promise<void> {
  const string = { type: "string" } as const;
  const flag = { type: "boolean" } as const;
  const commands = {
    install: {},
    start: { name: string, engine: string, "containerd-store": flag, "registry-mirror": string, quiet: flag },
    stop: { name: string },
    copy: { from: { ...string, default: DEFAULT_SOCKET }, to: string },
  };
  if (!Object.hasOwn(commands, command))
    throw new Error(`usage: private-engine.ts ${Object.keys(commands).join("|")} …`);
  const cmd = command as keyof typeof commands;
  const { values, positionals } = parseArgs({ args, options: commands[cmd], allowPositionals: cmd === "copy" });
  const v = values as Record<string, string | boolean | undefined>;
  const need = (key: string): string => {
    if (typeof v[key] !== "string") throw new Error(`${cmd} needs --${key}`);
    return v[key];
  };
  if (cmd === "install") ensureDocker28();
  if (cmd === "stop") await stopPrivateEngine(need("name"));
  if (cmd === "copy") await copyImages(need("from"), need("to"), positionals);
  if (cmd === "start") {
    const engine = need("engine");
    if (engine !== "docker20" && engine !== "docker28") throw new Error("--engine is docker20 or docker28");
    const registryMirror = v["registry-mirror"] as string | undefined;
    const options = { containerdStore: Boolean(v["containerd-store"]), registryMirror, quiet: Boolean(v.quiet) };
    const started = await startPrivateEngine({ name: need("name"), engine, ...options });
    console.log(`DOCKER_HOST=${started.host}`);
  }
}

if (import.meta.main) {
  await cli(process.argv[2], process.argv.slice(3)).catch((error: Error) => {
    console.error(`private-engine: ${error.message}`);
    process.exitCode = 1;
  });
}
