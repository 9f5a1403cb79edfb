// What a private engine needs from the machine: Docker 28's binaries (from Debian unstable, without touching the
// machine's apt sources), an address range and bridge of its own, and the removal of all an engine leaves behind in
// the kernel: cgroups, mounts, bridges and its firewall rule.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { debianArchive } from "../stand-ins/debian-archive.ts";

export const DOCKER28_DIR = "/opt/container-labs/docker28";
export const DOCKER28_VERSION = "28.5.2";
const BINARIES = ["dockerd", "docker-proxy", "containerd", "containerd-shim-runc-v2"];
const MARKER = join(DOCKER28_DIR, "VERSION"); // written last: a half-finished copy is redone, not trusted
export const RUNC = "/usr/sbin/runc";

const run = (cmd: string, args: string[], cwd?: string): string =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** Runs `use` on sid's `packages` unpacked (dpkg-deb -x) in a temporary folder, removed after. Its package lists, list
 * file and cache are the folder's own: the machine's apt state never learns about sid. */
export async function withSidPackages(
  packages: string[],
  say: (line: string) => void,
  use: (root: string) => void,
): Promise<void> {
  // The archive the stand-ins' debootstrap uses: sid is a suite of every Debian archive.
  const archive = await debianArchive();
  if (!archive) throw new Error("no Debian archive in /etc/apt's sources: set LABS_DEBIAN_MIRROR to one's URL");
  const work = mkdtempSync(join(tmpdir(), "sid-"));
  try {
    const keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
    writeFileSync(`${work}/sid.list`, `deb [signed-by=${keyring}] ${archive} sid main\n`);
    for (const d of ["lists/partial", "cache/archives/partial", "debs", "root"]) {
      mkdirSync(`${work}/${d}`, { recursive: true });
    }
    const apt = Object.entries({
      "Dir::Etc::sourcelist": `${work}/sid.list`,
      "Dir::Etc::sourceparts": "-",
      "Dir::State::lists": `${work}/lists`,
      "Dir::Cache": `${work}/cache`,
      "APT::Get::List-Cleanup": "0",
      "APT::Sandbox::User": "root",
    }).flatMap(([key, value]) => ["-o", `${key}=${value}`]);
    say(`reading sid's package lists from ${archive}`);
    run("apt-get", [...apt, "update", "-qq"]);
    say(`downloading ${packages.join(" and ")}`);
    run("apt-get", [...apt, "download", "-qq", ...packages], `${work}/debs`);
    say("unpacking");
    for (const deb of readdirSync(`${work}/debs`)) run("dpkg-deb", ["-x", `${work}/debs/${deb}`, `${work}/root`]);
    use(`${work}/root`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** sid's dockerd, docker-proxy, containerd and shim in DOCKER28_DIR, and Debian 12's runc; a no-op once done. */
export async function ensureDocker28(quiet = false): Promise<void> {
  const say = (line: string) => quiet || console.error(`docker28: ${line}`);
  // sid's runc needs a newer glibc than Debian 12 has; Debian 12's own runc works with sid's shim.
  if (!existsSync(RUNC)) {
    say("installing Debian's runc");
    run("apt-get", ["update", "-qq"]);
    run("apt-get", ["install", "-y", "-qq", "runc"]);
  }
  const installed = existsSync(MARKER) && readFileSync(MARKER, "utf8").trim() === DOCKER28_VERSION;
  if (installed && BINARIES.every((b) => existsSync(join(DOCKER28_DIR, b)))) {
    return void say(`${DOCKER28_VERSION} already in ${DOCKER28_DIR}`);
  }
  await withSidPackages(["docker.io", "containerd"], say, (root) => {
    const found = readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && BINARIES.includes(e.name) && /\/s?bin$/.test(e.parentPath))
      .map((e) => join(e.parentPath, e.name));
    const missing = BINARIES.filter((b) => !found.some((p) => basename(p) === b));
    if (missing.length) throw new Error(`sid's docker.io and containerd lack ${missing.join(", ")}`);
    const dockerd = found.find((p) => basename(p) === "dockerd")!;
    const version = run(dockerd, ["--version"]).trim();
    if (!version.includes(`version ${DOCKER28_VERSION}`))
      throw new Error(`sid has ${version}, not ${DOCKER28_VERSION}`);
    mkdirSync(DOCKER28_DIR, { recursive: true });
    for (const p of found) copyFileSync(p, join(DOCKER28_DIR, basename(p)));
    writeFileSync(MARKER, `${DOCKER28_VERSION}\n`);
    say(`${version} installed in ${DOCKER28_DIR}`);
  });
}

// cgroup v1 has a tree per controller; the pids tree (or v2's single tree) lists every process of an engine.
const CGROUP = "/sys/fs/cgroup";
const V2 = existsSync(`${CGROUP}/cgroup.controllers`);
export const PIDS_TREE = V2 ? CGROUP : `${CGROUP}/pids`;

// The arguments of `sh -c` that move the shell into `part` of the engine's cgroup and exec the rest of its command
// line there: all that starts from it stays where the stop finds it.
export const inCgroup = (cgroup: string, part: string) => [
  'echo $$ > "$0" && exec "$@"',
  `${PIDS_TREE}/${cgroup}/${part}/cgroup.procs`,
];

// A running engine adds and removes cgroups while they are walked: a walk that raced one is done again.
function subdirs(root: string, tries = 5): string[] {
  try {
    const dirs = readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isDirectory());
    return [root, ...dirs.map((e) => join(e.parentPath, e.name))];
  } catch (error) {
    if (!existsSync(root)) return [];
    if (tries === 0) throw error;
    return subdirs(root, tries - 1);
  }
}

function procs(cgroup: string): number[] {
  try {
    return readFileSync(`${cgroup}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return []; // it went away with its last process
  }
}

export const cgroupPids = (cgroup: string): number[] => subdirs(join(PIDS_TREE, cgroup)).flatMap(procs);

/** SIGKILL for every process in `cgroup` and its children, until none is left. */
export async function killAll(cgroup: string, named: string): Promise<void> {
  for (let left = cgroupPids(cgroup), tries = 0; left.length; await sleep(100), left = cgroupPids(cgroup)) {
    if (++tries > 100) throw new Error(`${named}: processes ${left.join(" ")} survive SIGKILL`);
    for (const stray of left) spawnSync("kill", ["-KILL", String(stray)]);
  }
}

/** Every cgroup hierarchy's root: v2's one, or each of v1's controllers (and named hierarchies). */
export const CGROUP_TREES = (): string[] => (V2 ? [CGROUP] : readdirSync(CGROUP).map((d) => join(CGROUP, d)));

export function removeCgroups(cgroup: string): void {
  for (const tree of CGROUP_TREES()) {
    for (const dir of subdirs(join(tree, cgroup)).toReversed()) rmdirSync(dir);
    spawnSync("rmdir", [join(tree, dirname(cgroup))], { stdio: "ignore" }); // stays while other engines have theirs
  }
}

// dockerd bind-mounts its data root onto itself (shared, for mount propagation) and undoes that only on a clean exit.
export function unmountUnder(roots: string[]): void {
  const mounts = execFileSync("findmnt", ["-rn", "-o", "TARGET"], { encoding: "utf8" }).split("\n");
  const ours = mounts.filter((m) => roots.some((r) => `${m}/`.startsWith(`${r}/`)));
  for (const m of ours.toSorted().toReversed()) {
    if (spawnSync("umount", [m]).status !== 0) spawnSync("umount", ["-l", m]);
  }
}

/** "10.x." of a 10.x.0.0/16. */
export const prefixOf = (net: string) => net.replace(/0\.0\/16$/, "");

/** The network devices holding an address that starts with `prefix`. */
export function linksWith(prefix: string): string[] {
  const addrs = execFileSync("ip", ["-4", "-o", "addr", "show"], { encoding: "utf8" });
  return [...addrs.matchAll(/^\d+: (\S+)\s+inet (\S+)/gm)]
    .filter(([, , addr]) => addr!.startsWith(prefix))
    .map(([, dev]) => dev!);
}

/** The first 10.x.0.0/16 that no route of the machine uses yet, searched from `seed`: an engine's own address range. */
export function freeNetwork(seed: number): string {
  const routes = execFileSync("ip", ["-4", "route", "show", "table", "all"], { encoding: "utf8" });
  const free = (n: number) => !new RegExp(`\\b10\\.${n}\\.`).test(routes);
  const n = Array.from({ length: 200 }, (_, i) => 16 + ((seed + i) % 200)).find(free);
  if (n === undefined) throw new Error("no free 10.x.0.0/16 left for a private engine");
  return `10.${n}.0.0/16`;
}

/** Puts `bridge` on the first /24 of `net`, and lets the engine's containers reach each other through FORWARD. */
export function addNetwork(bridge: string, net: string, rule: string): void {
  execFileSync("ip", ["link", "add", bridge, "type", "bridge"]);
  execFileSync("ip", ["addr", "add", `${prefixOf(net)}0.1/24`, "dev", bridge]);
  execFileSync("ip", ["link", "set", bridge, "up"]);
  // br_netfilter sends bridged frames through FORWARD, whose policy the default engine set to DROP.
  execFileSync("iptables", ["-A", "FORWARD", "-s", net, "-d", net, "-m", "comment", "--comment", rule, "-j", "ACCEPT"]);
}

export function removeNetwork(bridge: string, rule: string): void {
  const bridges = new Set([bridge]);
  for (const line of execFileSync("iptables", ["-S", "FORWARD"], { encoding: "utf8" }).split("\n")) {
    const args = line.replaceAll('"', "").split(" ");
    if (args[0] !== "-A" || !args.includes(rule)) continue;
    execFileSync("iptables", ["-D", ...args.slice(1)]);
    // dockerd keeps its networks' bridges across restarts, so it leaves them behind: the engine's /16 names them.
    for (const dev of linksWith(prefixOf(args[args.indexOf("-s") + 1]!))) if (dev.startsWith("br-")) bridges.add(dev);
  }
  for (const dev of bridges) spawnSync("ip", ["link", "del", dev], { stdio: "ignore" });
}
