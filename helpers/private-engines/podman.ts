// A private Podman (Debian 12's 4.3.1, rootful) serving the Docker API on a socket of its own, beside the machine's
// Docker engines: `podman system service` with its own storage (--root, --runroot), containers.conf and
// registries.conf (CONTAINERS_CONF, CONTAINERS_REGISTRIES_CONF; /etc/containers is never read or written), its own
// address range and bridge, in the engine's cgroup. lifecycle.ts starts and stops it like its Docker engines.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dockerApiAt, engineAnswers } from "../engine/hosts.ts";
import { pollUntil } from "../util/poll.ts";
import { CGROUP_TREES, inCgroup, killAll, linksWith, PIDS_TREE, prefixOf, RUNC } from "./host-setup.ts";

const PODMAN = "/usr/bin/podman";
// The distribution's defaults: with CONTAINERS_CONF set, Podman reads no other containers.conf, so the engine's own
// file starts from them, as a reader's Podman does.
const DISTRIBUTION_CONF = "/usr/share/containers/containers.conf";
// State Podman 4.3 keeps where no setting moves it: netavark's run directory (its IP allocations and aardvark-dns's
// files), the container network namespaces' files and containers/image's blob-info cache. The engine runs in a mount
// namespace of its own where directories of its own are mounted over these, so it shares none of it with the machine.
const FIXED_PLACES = ["/run/containers", "/run/netns", "/var/lib/containers"];
// cgroupfs with no cgroup parent given: where runc puts each container (libpod_parent/libpod-<id>), a path no
// setting of Podman 4.3 moves.
const CONTAINER_CGROUPS = "libpod_parent";
const TABLES = ["filter", "nat"] as const;

export interface PodmanLayout {
  run: string;
  dataRoot: string;
  cgroup: string;
  bridge: string;
}

interface Recorded {
  pool: string;
  // What existed before the engine first started: what the stop may remove is only what was not.
  madeDirs: string[];
  madeContainerCgroups: boolean;
  firewallBefore: Record<(typeof TABLES)[number], string[]>;
}

export const podmanSocket = (p: PodmanLayout) => `${p.run}/podman.sock`;
const record = (p: PodmanLayout) => `${p.run}/podman.json`;
export const podmanPidfile = (p: PodmanLayout) => `${p.run}/podman.pid`;
export const healthchecksPidfile = (p: PodmanLayout) => `${p.run}/healthchecks.pid`;
const HEALTHCHECKS = fileURLToPath(new URL("./healthchecks.ts", import.meta.url));
const placeFor = (p: PodmanLayout, place: string) => `${p.dataRoot}/fixed${place}`;

// Debian 12's podman, the network stack its containers.conf names, DNS for user networks, and the runtime the clamp
// runs (podman takes crun or runc; docker.io has brought runc).
const NEEDED = { podman: PODMAN, netavark: "/usr/lib/podman/netavark", "aardvark-dns": "/usr/lib/podman/aardvark-dns" };

export function ensurePodman(): string {
  const missing = Object.entries({ ...NEEDED, runc: RUNC }).filter(([, path]) => !existsSync(path));
  if (missing.length) {
    const packages = missing.map(([name]) => name).join(" ");
    throw new Error(`no ${missing.map(([, path]) => path).join(", ")}: apt-get install ${packages}`);
  }
  return execFileSync(PODMAN, ["--version"], { encoding: "utf8" }).trim();
}

/** `system` (a containers.conf) with `settings` added to its tables; a key the file already sets is an error. */
export function withSettings(system: string, settings: Record<string, string[]>): string {
  const lines = system.split("\n");
  for (const [table, entries] of Object.entries(settings)) {
    const header = lines.findIndex((line) => line.trim() === `[${table}]`);
    if (header === -1) {
      lines.push("", `[${table}]`, ...entries);
      continue;
    }
    const end = lines.findIndex((line, index) => index > header && /^\s*\[/.test(line));
    const body = lines.slice(header + 1, end === -1 ? undefined : end);
    for (const entry of entries) {
      const key = entry.split("=")[0]!.trim();
      if (body.some((line) => new RegExp(`^\\s*${key}\\s*=`).test(line))) {
        throw new Error(`the distribution's containers.conf already sets ${table}.${key}`);
      }
    }
    lines.splice(header + 1, 0, ...entries);
  }
  return lines.join("\n");
}

// `iptables -S`: "-N CHAIN" and "-A CHAIN …" lines, with an argument holding spaces (a comment) in double quotes.
const firewall = (table: string) =>
  execFileSync("iptables", ["-t", table, "-S"], { encoding: "utf8" }).split("\n").filter(Boolean);
const argsOf = (rule: string) => [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map(([, quoted, plain]) => quoted ?? plain!);

// The engine's first /24 is its default network's, on the engine's own bridge; networks the labs create get the
// next ones.
function writeConfig(p: PodmanLayout, pool: string): void {
  const prefix = prefixOf(pool);
  for (const dir of ["networks", "libpod"]) mkdirSync(`${p.run}/${dir}`, { recursive: true });
  mkdirSync(`${p.dataRoot}/tmp`, { recursive: true });
  const conf = withSettings(readFileSync(DISTRIBUTION_CONF, "utf8"), {
    // conmon stays in the service's cgroup, where the stop finds it: an exec's conmon outlives the exec by 300 s.
    containers: ['cgroups = "no-conmon"'],
    network: [
      'network_backend = "netavark"',
      `network_config_dir = "${p.run}/networks"`,
      `default_subnet_pools = [{ "base" = "${pool}", "size" = 24 }]`,
    ],
    engine: [
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${p.run}/events.log"`,
      `tmp_dir = "${p.run}/libpod"`,
      // Podman's default shm lock segment (/dev/shm/libpod_lock) is one for every Podman on the machine.
      'lock_type = "file"',
      `image_copy_tmp_dir = "${p.dataRoot}/tmp"`,
      'runtime = "runc"',
    ],
    "engine.runtimes": [`runc = ["${p.run}/runc"]`],
  });
  writeFileSync(`${p.run}/containers.conf`, conf);
  // Docker trusts a registry on 127.0.0.0/8 over plain HTTP; Podman only one that registries.conf marks insecure. A
  // location matches the host with any port (containers/image's prefix match stops at the host's boundary).
  writeFileSync(
    `${p.run}/registries.conf`,
    [
      'unqualified-search-registries = ["docker.io"]',
      ...["127.0.0.1", "localhost"].flatMap((host) => ["", "[[registry]]", `location = "${host}"`, "insecure = true"]),
      "",
    ].join("\n"),
  );
  const defaultNetwork = {
    name: "podman",
    id: createHash("sha256").update(p.run).digest("hex"),
    driver: "bridge",
    network_interface: p.bridge,
    created: new Date().toISOString(),
    subnets: [{ subnet: `${prefix}0.0/24`, gateway: `${prefix}0.1` }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: false,
    ipam_options: { driver: "host-local" },
  };
  writeFileSync(`${p.run}/networks/podman.json`, JSON.stringify(defaultNetwork, null, 2));
  const rlimits = fileURLToPath(new URL("./rlimits.ts", import.meta.url));
  const runtime = [
    "#!/bin/sh",
    "# runc, after lowering the rlimits of a container or exec to what runc may set here (see rlimits.ts)",
    'spec=""; previous=""',
    'for arg in "$@"; do',
    '  case "$previous" in --bundle|-b) spec="$arg/config.json" ;; --process|-p) spec="$arg" ;; esac',
    '  case "$arg" in --bundle=*) spec="${arg#--bundle=}/config.json" ;; --process=*) spec="${arg#--process=}" ;; esac',
    '  previous="$arg"',
    "done",
    `if [ -n "$spec" ] && [ -f "$spec" ]; then`,
    `  "${process.execPath}" --no-warnings "${rlimits}" "$spec" "${p.run}/rlimits.log" || exit 1`,
    "fi",
    `exec "${RUNC}" "$@"`,
    "",
  ].join("\n");
  writeFileSync(`${p.run}/runc`, runtime);
  chmodSync(`${p.run}/runc`, 0o755);
}

/** Writes the engine's configuration and mount namespace; returns how to start its service and its healthcheck timers,
 * and how a run reaches it. */
export async function preparePodman(p: PodmanLayout, pool: string) {
  const madeDirs = FIXED_PLACES.filter((place) => !existsSync(place));
  const recorded: Recorded = {
    pool,
    madeDirs,
    madeContainerCgroups: !existsSync(join(PIDS_TREE, CONTAINER_CGROUPS)),
    firewallBefore: { filter: firewall("filter"), nat: firewall("nat") },
  };
  writeFileSync(record(p), JSON.stringify(recorded, null, 2));
  for (const dir of madeDirs) mkdirSync(dir, { recursive: true });
  writeConfig(p, pool);
  const mountNamespace = `--mount=/proc/${await startNamespace(p)}/ns/mnt`;
  const inEngine = (part: string) => ["nsenter", mountNamespace, "--", "sh", "-c", ...inCgroup(p.cgroup, part)];
  mkdirSync(`${PIDS_TREE}/${p.cgroup}/healthchecks`, { recursive: true });
  const podman = [PODMAN, "--root", p.dataRoot, "--runroot", `${p.run}/storage`, "--storage-driver", "overlay"];
  const timers = [process.execPath, "--no-warnings", HEALTHCHECKS, podmanSocket(p), ...podman];
  return {
    argv: [...inEngine("daemon"), ...podman, "system", "service", "--time=0", `unix://${podmanSocket(p)}`],
    // What systemd's healthcheck timers would run (healthchecks.ts).
    healthchecks: [...inEngine("healthchecks"), ...timers],
    env: {
      ...process.env,
      CONTAINERS_CONF: `${p.run}/containers.conf`,
      CONTAINERS_REGISTRIES_CONF: `${p.run}/registries.conf`,
      TMPDIR: `${p.dataRoot}/tmp`,
    },
    log: `${p.run}/podman.log`,
    pidfile: podmanPidfile(p),
    client: { DOCKER_HOST: `unix://${podmanSocket(p)}` },
  };
}

// A process that only holds the mount namespace, in the engine's cgroup: the service can be stopped and started again
// (an interrupt) without losing the mounts of the containers that outlive it. Returns its pid.
async function startNamespace(p: PodmanLayout): Promise<number> {
  const binds = FIXED_PLACES.map((place) => {
    mkdirSync(placeFor(p, place), { recursive: true });
    return `mount --bind '${placeFor(p, place)}' '${place}'`;
  });
  mkdirSync(`${PIDS_TREE}/${p.cgroup}/namespace`, { recursive: true });
  const script = `${binds.join(" && ")} && exec sleep infinity`;
  const holder = spawn(
    "sh",
    ["-c", ...inCgroup(p.cgroup, "namespace"), "unshare", "--mount", "--propagation", "slave", "sh", "-c", script],
    { detached: true, stdio: "ignore" },
  );
  holder.unref();
  const holding = () => {
    const cmdline = existsSync(`/proc/${holder.pid}/cmdline`)
      ? readFileSync(`/proc/${holder.pid}/cmdline`, "utf8")
      : "";
    return cmdline.startsWith("sleep\0") ? true : holder.exitCode === null ? undefined : false;
  };
  if (!(await pollUntil(holding, { timeoutMs: 10_000, intervalMs: 20 }))) {
    throw new Error(`podman's mount namespace: ${script} did not come up (exit ${holder.exitCode})`);
  }
  return holder.pid!;
}

/** Every container of the engine removed through its API while it runs, so that netavark undoes their networking. */
export async function removePodmanContainers(p: PodmanLayout): Promise<void> {
  const at = `unix://${podmanSocket(p)}`;
  if (!existsSync(podmanSocket(p)) || !(await engineAnswers(at, 2000))) return;
  const docker = dockerApiAt(at);
  const removing = async () => {
    const containers = await docker.listContainers({ all: true });
    await Promise.allSettled(containers.map(({ Id }) => docker.getContainer(Id).remove({ force: true, v: true })));
    const networks = await docker.listNetworks();
    await Promise.allSettled(
      networks.filter(({ Name }) => Name !== "podman").map(({ Id }) => docker.getNetwork(Id).remove()),
    );
  };
  await Promise.race([removing().catch(() => undefined), sleep(30_000, undefined, { ref: false })]);
}

const containerIds = (p: PodmanLayout) =>
  [`${p.dataRoot}/overlay-containers`, `${p.run}/storage/overlay-containers`]
    .flatMap((dir) => (existsSync(dir) ? readdirSync(dir) : []))
    .filter((entry) => /^[0-9a-f]{64}$/.test(entry));

// The containers' processes live in cgroups of Podman's naming, outside the engine's: those of its own containers
// (their ids are in its storage) are killed and removed like the engine's own.
async function removeContainerCgroups(p: PodmanLayout, recorded: Recorded | undefined): Promise<void> {
  const cgroups = [...new Set(containerIds(p))].map((id) => `${CONTAINER_CGROUPS}/libpod-${id}`);
  for (const cgroup of cgroups) await killAll(cgroup, `podman container cgroup ${cgroup}`);
  for (const tree of CGROUP_TREES()) {
    for (const cgroup of cgroups) spawnSync("rmdir", [join(tree, cgroup)], { stdio: "ignore" });
    if (recorded?.madeContainerCgroups) spawnSync("rmdir", [join(tree, CONTAINER_CGROUPS)], { stdio: "ignore" });
  }
}

// netavark's rules for the engine: those naming its addresses or its bridges, those in or jumping to chains that did
// not exist before it started, and netavark's own rules that appeared since (the jump to its isolation chains). A
// clean stop leaves none; a service that died with containers running leaves them all.
function removeFirewall(recorded: Recorded, bridges: string[]): void {
  const prefix = prefixOf(recorded.pool);
  for (const table of TABLES) {
    const before = new Set(recorded.firewallBefore[table]);
    const now = firewall(table);
    const ours = new Set(
      now.filter((line) => line.startsWith("-N NETAVARK") && !before.has(line)).map((line) => line.slice(3)),
    );
    for (const rule of now.filter((line) => line.startsWith("-A "))) {
      const args = argsOf(rule);
      const [chain = "", target = ""] = [args[1], args[args.indexOf("-j") + 1]];
      const netavarks = chain.startsWith("NETAVARK") || target.startsWith("NETAVARK");
      const names = args.some((arg) => arg.startsWith(prefix) || bridges.includes(arg));
      if (ours.has(chain) || ours.has(target) || (netavarks && (names || !before.has(rule)))) {
        spawnSync("iptables", ["-t", table, "-D", ...args.slice(1)], { stdio: "ignore" });
      }
    }
    for (const chain of ours) spawnSync("iptables", ["-t", table, "-X", chain], { stdio: "ignore" });
  }
}

/** After every process of the engine is gone: its containers' cgroups, firewall rules, bridges and directories. */
export async function removePodmanLeftovers(p: PodmanLayout): Promise<void> {
  const recorded = existsSync(record(p)) ? (JSON.parse(readFileSync(record(p), "utf8")) as Recorded) : undefined;
  await removeContainerCgroups(p, recorded);
  if (!recorded) return;
  // Bridges netavark made for the engine's networks carry addresses of the engine's range.
  const links = linksWith(prefixOf(recorded.pool));
  removeFirewall(recorded, [...links, p.bridge]);
  for (const dev of links) spawnSync("ip", ["link", "del", dev], { stdio: "ignore" });
  // Left where something else now keeps a file there.
  for (const dir of recorded.madeDirs) spawnSync("rmdir", [dir], { stdio: "ignore" });
}
