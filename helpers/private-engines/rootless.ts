// Rootless Docker as its readers run it: Debian 12's dockerd-rootless.sh (RootlessKit with slirp4netns) started by an
// unprivileged user, for a private engine of lifecycle.ts. The user is machine setup, like an apt package: created once
// when missing and kept; an engine's run dir, exec root and data root are that user's and go with the engine.
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";

const ROOTLESS_USER = "labs-rootless";
const SCRIPT = "/usr/share/docker.io/contrib/dockerd-rootless.sh";
// Docker's rootless docs ask for at least 65,536 subordinate ids; useradd's own range starts at 100000.
const IDS = 65_536;
const FIRST_ID = 100_000;
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const SUBORDINATE_IDS = { "/etc/subuid": "--add-subuids", "/etc/subgid": "--add-subgids" };
// By package: the programs it brings.
const NEEDED = { rootlesskit: ["rootlesskit"], slirp4netns: ["slirp4netns"], uidmap: ["newuidmap", "newgidmap"] };

const onPath = (program: string) => SYSTEM_PATH.split(delimiter).some((dir) => existsSync(join(dir, program)));

function account(name: string) {
  const { status, stdout } = spawnSync("getent", ["passwd", name], { encoding: "utf8" });
  if (status !== 0) return undefined; // getent exits 2 for an unknown name
  const [, , uid, gid, , home] = stdout.trim().split(":");
  return { name, uid: Number(uid), gid: Number(gid), home: home!, runtimeDir: `/run/user/${uid}` };
}

type RootlessUser = NonNullable<ReturnType<typeof account>>;

const ranges = (file: string) =>
  (existsSync(file) ? readFileSync(file, "utf8") : "")
    .split("\n")
    .map((line) => line.trim().split(":"))
    .filter((fields) => fields.length === 3)
    .map(([owner, start, count]) => ({ owner: owner!, start: Number(start), count: Number(count) }));

const ownRange = (file: string, user: RootlessUser) =>
  ranges(file).find(({ owner, count }) => (owner === user.name || owner === String(user.uid)) && count >= IDS);

/** The unprivileged user rootless engines run as, with all it needs; says in one line what it had to create. */
export function ensureRootlessUser(name = ROOTLESS_USER): RootlessUser {
  const missing = Object.entries(NEEDED)
    .filter(([, programs]) => !programs.every(onPath))
    .map(([pkg]) => pkg);
  if (!existsSync(SCRIPT) || !onPath("dockerd")) missing.unshift("docker.io");
  if (missing.length) {
    throw new Error(`rootless Docker needs ${missing.join(", ")}: apt-get install -y ${missing.join(" ")}`);
  }
  const fresh = !account(name);
  if (fresh) {
    const comment = "container-labs rootless Docker";
    execFileSync("useradd", ["--create-home", "--shell", "/usr/sbin/nologin", "--comment", comment, name]);
  }
  const user = account(name)!;
  if (user.uid === 0) throw new Error(`user ${name} is root: rootless Docker needs an unprivileged user`);
  const created = fresh ? [`user ${name} (uid ${user.uid}, home ${user.home})`] : [];
  for (const [file, flag] of Object.entries(SUBORDINATE_IDS)) {
    let range = ownRange(file, user);
    // useradd adds both ranges itself where login.defs sets SUB_UID_COUNT; elsewhere they are added here.
    if (!range) {
      const start = Math.max(FIRST_ID, ...ranges(file).map((taken) => taken.start + taken.count)); // above all others
      execFileSync("usermod", [flag, `${start}-${start + IDS - 1}`, name]);
      range = ownRange(file, user)!;
    } else if (!fresh) continue;
    created.push(`${file} ${name}:${range.start}:${range.count}`);
  }
  for (const dir of [user.home, user.runtimeDir]) {
    if (existsSync(dir)) continue;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, user.uid, user.gid);
    created.push(dir);
  }
  if (created.length) console.error(`rootless: created ${created.join(", ")}`);
  return user;
}

/**
 * What follows the launcher's cgroup join: the drop to the user and Debian's script with dockerd's own arguments.
 * setpriv execs (runuser would stay behind as a root parent for its PAM session), so the engine's processes are
 * RootlessKit, slirp4netns, dockerd and what dockerd starts, all in the cgroup the launcher joined.
 */
export function rootlessCommand(user: RootlessUser, stateDir: string, dockerdArgs: string[]) {
  return {
    argv: ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", SCRIPT, ...dockerdArgs],
    // The whole environment: nothing of root's (HOME, DOCKER_HOST, a run's secrets) reaches the user's engine.
    env: {
      HOME: user.home,
      USER: user.name,
      LOGNAME: user.name,
      PATH: SYSTEM_PATH,
      XDG_RUNTIME_DIR: user.runtimeDir,
      // RootlessKit's own sockets (its API, slirp4netns's) in the engine's run dir instead of a fresh /tmp dir.
      DOCKERD_ROOTLESS_ROOTLESSKIT_FLAGS: `--state-dir=${stateDir}`,
    },
  };
}
