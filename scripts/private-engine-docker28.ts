// Docker 28 binaries for private engines, taken from Debian unstable without touching the machine's apt sources.
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

export const DOCKER28_DIR = "/opt/container-labs/docker28";
export const DOCKER28_VERSION = "28.5.2";
const BINARIES = ["dockerd", "docker-proxy", "containerd", "containerd-shim-runc-v2"];
// Written last, so a half-finished copy is redone rather than trusted.
const MARKER = join(DOCKER28_DIR, "VERSION");

const run = (cmd: string, args: string[], cwd?: string): string =>
  execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The Debian archive that serves this machine's own release, read from its apt sources (one-line or deb822). */
export function debianArchive(): string {
  const codename = /^VERSION_CODENAME=(\S+)/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
  const dir = "/etc/apt/sources.list.d";
  const files = [
    "/etc/apt/sources.list",
    ...(existsSync(dir) ? readdirSync(dir).filter((f) => /\.(list|sources)$/.test(f)) : []).map((f) => join(dir, f)),
  ].filter((f) => existsSync(f));
  for (const text of files.map((f) => readFileSync(f, "utf8"))) {
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:(.*)$/m.exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
      if (uri && codename && suites.includes(codename)) return uri;
    }
    for (const [, uri, suite] of text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/gm)) {
      if (uri && suite === codename) return uri;
    }
  }
  throw new Error(`no apt source for ${codename ?? "this release"} in /etc/apt; cannot locate the Debian archive`);
}

/** Installs sid's dockerd, docker-proxy, containerd and shim into DOCKER28_DIR, plus Debian 12's runc; a no-op once done. */
export function ensureDocker28(): void {
  const have = existsSync(MARKER) && readFileSync(MARKER, "utf8").trim() === DOCKER28_VERSION;
  // sid's runc needs a newer glibc than Debian 12 has; Debian 12's own runc works with sid's shim.
  if (spawnSync("runc", ["--version"]).status !== 0) {
    console.error("docker28: installing Debian's runc");
    run("apt-get", ["update", "-qq"]);
    run("apt-get", ["install", "-y", "-qq", "runc"]);
  }
  if (have && BINARIES.every((b) => existsSync(join(DOCKER28_DIR, b)))) {
    console.error(`docker28: ${DOCKER28_VERSION} already in ${DOCKER28_DIR}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), "docker28-"));
  try {
    const list = join(work, "sid.list");
    const archive = debianArchive();
    writeFileSync(list, `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${archive} sid main\n`);
    for (const d of ["lists/partial", "cache/archives/partial", "debs", "root"])
      mkdirSync(join(work, d), { recursive: true });
    // A private list, lists dir and cache: the machine's own apt state never learns about sid.
    const apt = [
      ...[
        "-o",
        `Dir::Etc::sourcelist=${list}`,
        "-o",
        "Dir::Etc::sourceparts=-",
        "-o",
        `Dir::State::lists=${work}/lists`,
      ],
      ...["-o", "APT::Get::List-Cleanup=0", "-o", `Dir::Cache=${work}/cache`, "-o", "APT::Sandbox::User=root"],
    ];
    console.error(`docker28: reading sid's package lists from ${archive}`);
    run("apt-get", [...apt, "update", "-qq"]);
    console.error("docker28: downloading docker.io and containerd");
    run("apt-get", [...apt, "download", "-qq", "docker.io", "containerd"], join(work, "debs"));
    console.error("docker28: unpacking");
    for (const deb of readdirSync(join(work, "debs")))
      run("dpkg-deb", ["-x", join(work, "debs", deb), join(work, "root")]);
    const found = readdirSync(join(work, "root"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && BINARIES.includes(e.name) && /\/s?bin$/.test(e.parentPath))
      .map((e) => join(e.parentPath, e.name));
    const version = run(found.find((p) => basename(p) === "dockerd") ?? "dockerd-missing-from-docker.io", [
      "--version",
    ]);
    if (!version.includes(`version ${DOCKER28_VERSION}`))
      throw new Error(`sid now ships ${version.trim()}, not ${DOCKER28_VERSION}`);
    mkdirSync(DOCKER28_DIR, { recursive: true });
    for (const p of found) copyFileSync(p, join(DOCKER28_DIR, basename(p)));
    const missing = BINARIES.filter((b) => !existsSync(join(DOCKER28_DIR, b)));
    if (missing.length) throw new Error(`sid's packages lack ${missing.join(", ")}`);
    writeFileSync(MARKER, `${DOCKER28_VERSION}\n`);
    console.error(`docker28: ${version.trim()} installed in ${DOCKER28_DIR}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
