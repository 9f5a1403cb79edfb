// A private Docker engine (20.10 or 28) beside the machine's default one, without disturbing it: a socket, data root,
// exec root, managed containerd, bridge, address pool and cgroup subtree of its own. Or, with `remote`, the same engine
// in a network namespace of its own, reached only over tcp:// with TLS, as a reader's engine on another machine. Or,
// with `rootless`, Debian's rootless Docker 20.10 run by an unprivileged user in RootlessKit's namespaces. Or a
// Podman 4 serving the Docker API with the same isolation (podman.ts).
// What it needs of the machine is in host-setup.ts, remote.ts, rootless.ts and podman.ts; scripts/private-engine.ts is
// its command line.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { imageArchive } from "../engine/archive.ts";
import type { Docker } from "../engine/client.ts";
import { dockerApiAt, engineAnswers, type EngineAddress } from "../engine/hosts.ts";
import { followProgress } from "../engine/progress.ts";
import { pollUntil } from "../util/poll.ts";
import { since } from "../util/time.ts";
import { addNetwork, cgroupPids, DOCKER28_DIR, ensureDocker28, freeNetwork, inCgroup, killAll } from "./host-setup.ts";
import { PIDS_TREE, removeCgroups, removeNetwork, unmountUnder } from "./host-setup.ts";
import { ensurePodman, healthchecksPidfile, podmanPidfile, podmanSocket, preparePodman } from "./podman.ts";
import { removePodmanContainers, removePodmanLeftovers } from "./podman.ts";
import { addRemoteHost, removeRemoteHost } from "./remote.ts";
import { ensureRootlessUser, rootlessCommand } from "./rootless.ts";

export type EngineKind = "docker20" | "docker28" | "podman4";
export interface EngineOptions {
  name: string;
  engine: EngineKind;
  containerdStore?: boolean;
  // Docker 29.0–29.2 refuse clients below API 1.44; Docker 28 raises its floor the same way when told to.
  minApiVersion?: string;
  // In a network namespace of its own, reached over tcp:// with TLS: an engine on another machine.
  remote?: boolean;
  // dockerd-rootless.sh as an unprivileged user (created when missing): RootlessKit, slirp4netns, no cgroups on v1.
  rootless?: boolean;
  registryMirror?: string;
  quiet?: boolean;
}
export interface PrivateEngine extends AsyncDisposable {
  name: string;
  // DOCKER_HOST, and for a remote engine DOCKER_TLS_VERIFY and DOCKER_CERT_PATH: what a run on it needs.
  env: EngineAddress;
  host: string;
  docker: Docker;
  stop(): Promise<void>;
  /** SIGTERM is a restart (running requests finish); SIGKILL a crash (every connection drops at once). */
  interrupt(downFor: number | (() => Promise<unknown>), signal?: NodeJS.Signals): Promise<void>;
}

const RUN_DIRS = "/run/labs-engines";

/** The engines started and not yet stopped, by name: a killed owner leaves its engine running. */
export function privateEngineNames(): string[] {
  return existsSync(RUN_DIRS) ? readdirSync(RUN_DIRS) : [];
}

/** What a run on engine `name` needs in its environment, as the engine's start wrote it. */
export function privateEngineEnv(name: string): EngineAddress {
  return JSON.parse(readFileSync(`${layout(name).run}/env.json`, "utf8")) as EngineAddress;
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
    veth: `lr${hash}`,
    netns: `labs-${name}`,
    seed: parseInt(hash, 16),
    cgroup: `labs-engines/${name}`,
    rule: `labs-engine:${name}`,
  };
}
type Layout = ReturnType<typeof layout>;

export async function startPrivateEngine(o: EngineOptions): Promise<PrivateEngine> {
  const p = layout(o.name);
  const podman = o.engine === "podman4";
  for (const socket of [p.socket, podmanSocket(p)]) {
    if (existsSync(socket) && (await engineAnswers({ DOCKER_HOST: `unix://${socket}` }, 2000)))
      throw new Error(`engine ${o.name} already answers on ${socket}: stop it first`);
  }
  if (o.engine === "docker20" && o.containerdStore) throw new Error("docker20 has no containerd image store");
  if (o.rootless && (o.engine !== "docker20" || o.remote)) throw new Error("rootless is Debian's docker20, local");
  const dockerOnly = { containerdStore: o.containerdStore, minApiVersion: o.minApiVersion, remote: o.remote };
  const unsupported = Object.entries({ ...dockerOnly, registryMirror: o.registryMirror }).filter(([, set]) => set);
  if (podman && unsupported.length) throw new Error(`podman4 takes no ${unsupported.map(([key]) => key).join(", ")}`);
  // dockerd starts a containerd of its own only when none listens at the system's default address.
  if (!podman && existsSync("/run/containerd/containerd.sock"))
    throw new Error("a system containerd runs: engines would share it");
  if (o.engine === "docker28") await ensureDocker28(o.quiet);
  const product = podman ? ensurePodman() : o.engine;
  await stopPrivateEngine(o.name, true); // what a killed run left
  const started = performance.now();
  try {
    const pool = freeNetwork(p.seed);
    mkdirSync(p.dataRoot, { recursive: true });
    mkdirSync(`${p.run}/exec`, { recursive: true });
    mkdirSync(`${PIDS_TREE}/${p.cgroup}/daemon`, { recursive: true });
    const daemon: Daemon = podman ? await preparePodman(p, pool) : dockerDaemon(o, p, pool);
    writeFileSync(`${p.run}/env.json`, JSON.stringify(daemon.client));
    const named = podman ? `${product} (engine ${o.name})` : `${product} engine ${o.name}`;
    await launchDaemon(daemon, named);
    // What systemd's healthcheck timers would run for a Podman (healthchecks.ts), beside its service.
    if (daemon.healthchecks) {
      const log = `${p.run}/healthchecks.log`;
      spawnDetached(daemon.healthchecks, { log, env: daemon.env, pidfile: healthchecksPidfile(p) });
    }
    const host = daemon.client.DOCKER_HOST;
    if (!o.quiet) console.error(`${o.name}: ${product} answers on ${host} after ${since(started).toFixed(1)} s`);
    const stop = () => stopPrivateEngine(o.name, o.quiet);
    return {
      name: o.name,
      env: daemon.client,
      host,
      docker: dockerApiAt(daemon.client),
      stop,
      [Symbol.asyncDispose]: stop,
      // A restart or a crash as a user meets it: the engine goes away for a while, then comes back on the same data.
      // Down for a time, or until `downFor` resolves: a spec that needs its run to end before the engine returns says so.
      // A Podman's containers keep running under their conmons, as a restarted `podman system service` leaves them.
      async interrupt(downFor, signal = "SIGTERM") {
        // dockerd writes its own pidfile; the Podman service's is written at its spawn.
        const running = Number(readFileSync(daemon.pidfile ?? `${p.run}/docker.pid`, "utf8"));
        process.kill(running, signal);
        while (cgroupPids(p.cgroup).includes(running)) await sleep(50);
        await (typeof downFor === "number" ? sleep(downFor) : downFor());
        await launchDaemon(daemon, named).catch(async (error: unknown) => {
          await stopPrivateEngine(o.name, true);
          throw error;
        });
      },
    };
  } catch (error) {
    await stopPrivateEngine(o.name, true);
    throw error;
  }
}

interface Daemon {
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  log: string;
  pidfile?: string; // written at the spawn, for a daemon that writes none itself
  client: EngineAddress;
  healthchecks?: string[];
}

function dockerDaemon(o: EngineOptions, p: Layout, pool: string): Daemon {
  const rootless = o.rootless ? ensureRootlessUser() : undefined;
  // dockerd runs as the rootless user and writes its socket, exec root and data root there.
  if (rootless) for (const dir of [p.run, `${p.run}/exec`, p.dataRoot]) chownSync(dir, rootless.uid, rootless.gid);
  // A remote engine owns its namespace's firewall and bridge; a local one shares the machine's with the default engine.
  const remote = o.remote ? addRemoteHost(p.netns, p.veth, pool, p.run) : undefined;
  // A rootless engine's bridge, firewall and addresses are inside RootlessKit's network namespace.
  const ownNetwork = remote ?? rootless;
  if (!ownNetwork) addNetwork(p.bridge, pool, p.rule);
  const config = {
    features: { "containerd-snapshotter": Boolean(o.containerdStore) },
    "registry-mirrors": o.registryMirror ? [o.registryMirror] : [],
    ...(ownNetwork ? {} : { "default-address-pools": [{ base: pool, size: 24 }] }),
    // Restarting with address pools and without live-restore, dockerd deletes the host's docker0 whatever --bridge
    // says: the default engine's bridge, under its running containers. A rootless engine comes back in new RootlessKit
    // namespaces, where it could not take its running containers back: its dockerd stops them itself.
    "live-restore": !rootless,
    // Its identity key, which a rootless dockerd would keep in the user's ~/.config/docker after the engine is gone.
    ...(rootless ? { "deprecated-key-path": `${p.run}/key.json` } : {}),
  };
  writeFileSync(`${p.run}/daemon.json`, JSON.stringify(config, null, 2));
  const bin = o.engine === "docker28" ? DOCKER28_DIR : "/usr/sbin";
  const own = [
    ...["--config-file", `${p.run}/daemon.json`, "--pidfile", `${p.run}/docker.pid`, "--host", `unix://${p.socket}`],
    ...["--data-root", p.dataRoot, "--exec-root", `${p.run}/exec`],
  ];
  // Rootless, dockerd forwards ports with RootlessKit's proxy and has no cgroups to place containers in (cgroup v1).
  const args = rootless
    ? own
    : [
        ...own,
        ...["--userland-proxy-path", `${bin}/docker-proxy`],
        // The default engine owns the machine's DOCKER chains: two engines writing them would undo each other's rules.
        ...(remote?.serverTls ?? ["--bridge", p.bridge, "--iptables=false", "--ip6tables=false"]),
        // Not the default engine's /docker, so that neither engine (nor a cAdvisor) takes the other's containers for its own.
        ...["--cgroup-parent", `/${p.cgroup}`],
      ];
  const asUser = rootless && rootlessCommand(rootless, `${p.run}/rootlesskit`, args);
  // Joining the cgroup before exec puts dockerd and all it spawns (containerd, shims, proxies) where stop finds them.
  const daemon = asUser ? asUser.argv : [`${bin}/dockerd`, ...args];
  return {
    argv: [...(remote?.nsenter ?? []), "sh", "-c", ...inCgroup(p.cgroup, "daemon"), ...daemon],
    // dockerd finds containerd, the shim and runc on its PATH.
    env: asUser
      ? asUser.env
      : {
          ...process.env,
          PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
          ...(o.minApiVersion ? { DOCKER_MIN_API_VERSION: o.minApiVersion } : {}),
        },
    // A directory the rootless user may enter, as dockerd-rootless.sh's working directory must be.
    cwd: p.run,
    log: `${p.run}/dockerd.log`,
    // A remote engine's host has its socket too, as any Docker host does: what runs there (cAdvisor) mounts it, and
    // testcontainers is told where it is the way a user would tell it.
    client: remote
      ? { ...remote.clientEnv, TESTCONTAINERS_DOCKER_SOCKET_OVERRIDE: p.socket }
      : { DOCKER_HOST: `unix://${p.socket}` },
  };
}

// Starts `argv` detached from the run, its output appended to `log`.
function spawnDetached([program, ...args]: string[], o: Pick<Daemon, "log" | "env" | "cwd" | "pidfile">): ChildProcess {
  const log = openSync(o.log, "a");
  const child = spawn(program!, args, { detached: true, stdio: ["ignore", log, log], env: o.env, cwd: o.cwd });
  child.unref();
  closeSync(log);
  if (o.pidfile) writeFileSync(o.pidfile, String(child.pid));
  return child;
}

// Starts an engine's daemon detached and waits up to 60 s for it to answer; otherwise prints the last lines of its
// log and says whether it exited or never answered.
async function launchDaemon(o: Daemon, named: string): Promise<void> {
  const child = spawnDetached(o.argv, o);
  const answered = async () =>
    (await engineAnswers(o.client, 2000)) ? true : child.exitCode === null ? undefined : false;
  if (await pollUntil(answered, { timeoutMs: 60_000 })) return;
  console.error(readFileSync(o.log, "utf8").trimEnd().split("\n").slice(-20).join("\n"));
  const why = child.exitCode === null ? "did not answer a ping within 60 s" : `exited with ${child.exitCode}`;
  throw new Error(`${named} ${why} (the last lines of its log are above)`);
}

/** Stops engine `name` (SIGTERM; SIGKILL for all it spawned after 30 s) and removes all it left: mounts, bridges, data. */
export async function stopPrivateEngine(name: string, quiet = false): Promise<void> {
  const p = layout(name);
  const started = performance.now();
  // A Podman's containers outlive its service: they go first, through its API, while netavark can still undo them,
  // and with no healthcheck starting among them.
  const timers = existsSync(healthchecksPidfile(p)) ? Number(readFileSync(healthchecksPidfile(p), "utf8")) : 0;
  if (timers && cgroupPids(p.cgroup).includes(timers)) process.kill(timers, "SIGTERM");
  await removePodmanContainers(p);
  const pidfile = [`${p.run}/docker.pid`, podmanPidfile(p)].find((file) => existsSync(file));
  const pid = Number(pidfile && readFileSync(pidfile, "utf8"));
  // A stale pidfile may name a recycled pid: only a process in the engine's cgroup is its dockerd.
  if (pid && cgroupPids(p.cgroup).includes(pid)) process.kill(pid, "SIGTERM");
  await pollUntil(() => (cgroupPids(p.cgroup).includes(pid) ? undefined : true), { timeoutMs: 30_000 });
  await killAll(p.cgroup, `engine ${name}`);
  await removePodmanLeftovers(p);
  unmountUnder([p.run, p.dataRoot]);
  removeNetwork(p.bridge, p.rule);
  removeRemoteHost(p.netns, p.veth);
  rmSync(p.dataRoot, { recursive: true, force: true });
  rmSync(p.run, { recursive: true, force: true });
  removeCgroups(p.cgroup);
  if (!quiet) console.error(`${name}: stopped and removed in ${since(started).toFixed(1)} s`);
}

/** Streams one engine's image archive into another engine: no registry can be pulled from here. */
export async function copyImages(from: Docker, to: Docker, refs: string[]): Promise<void> {
  if (!refs.length) throw new Error("copyImages: name at least one image");
  try {
    // One archive for all refs, as `docker save a b` makes it: their shared layers travel once.
    const archive = await imageArchive(from, refs);
    await followProgress(to, (await to.loadImage(archive, { quiet: true })) as NodeJS.ReadableStream);
  } catch (error) {
    throw new Error(`copying ${refs.join(" ")} failed: ${(error as Error).message}`, { cause: error });
  }
}
