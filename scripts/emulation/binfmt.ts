// The kernel runs an arm64 binary only through a binfmt_misc entry naming QEMU. The entries are shared by every
// process on the machine, other people's engines included: this adds what is missing and changes nothing it found.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";

const BINFMT = "/proc/sys/fs/binfmt_misc";
const NOT_ENTRIES = new Set(["register", "status"]);

const entries = () => readdirSync(BINFMT).filter((name) => !NOT_ENTRIES.has(name));
const enabled = (entry: string) => readFileSync(`${BINFMT}/${entry}`, "utf8").startsWith("enabled");

/** Makes sure `entry` (e.g. qemu-aarch64) is registered and enabled; says what it found and what it added. */
export function ensureBinfmt(entry: string, say: (line: string) => void): void {
  if (existsSync(`${BINFMT}/status`)) say("binfmt_misc: found mounted");
  else {
    execFileSync("mount", ["-t", "binfmt_misc", "binfmt_misc", BINFMT]);
    say(`binfmt_misc: added the mount on ${BINFMT}`);
  }
  const found = entries();
  say(`binfmt_misc: found ${found.length ? found.join(", ") : "no entries"}`);
  if (found.includes(entry)) {
    // Someone disabled it on purpose, or another tool owns it: turning it on would change their machine.
    if (!enabled(entry)) throw new Error(`binfmt_misc: ${entry} is registered but disabled; enable it yourself`);
    return say(`binfmt_misc: ${entry} already registered and enabled, left as it was`);
  }
  const known = existsSync(`/var/lib/binfmts/${entry}`);
  if (!known && !existsSync(`/usr/share/binfmts/${entry}`)) {
    throw new Error(`binfmt_misc: no ${entry} format known here: apt-get install -y qemu-user-static binfmt-support`);
  }
  // --enable registers only this entry; --import first records it with binfmt-support when that never happened.
  execFileSync("update-binfmts", known ? ["--enable", entry] : ["--import", entry], { stdio: "pipe" });
  if (!entries().includes(entry)) throw new Error(`binfmt_misc: update-binfmts did not register ${entry}`);
  say(`binfmt_misc: added ${entry} (${readFileSync(`${BINFMT}/${entry}`, "utf8").match(/^flags: (\w*)/m)?.[0]})`);
}
