import { execFile } from "node:child_process";
import { readdir, readFile, readlink } from "node:fs/promises";
import { userInfo } from "node:os";
import { promisify } from "node:util";
import type { Runner } from "../engine/facts.ts";
import { LOOPBACK } from "./containers.ts";
import {
  dnatRule,
  isProxyFor,
  linuxForwarder,
  listeningInode,
  lsofRows,
  parentInStat,
  tcpListeners,
  vmForwarder,
  windowsProcesses,
  type Listener,
  type LinuxProcess,
} from "./listener-output.ts";

const run = promisify(execFile);

export interface HostListener extends Listener {
  // what the reader types on this runner to ask
  tool: string;
}

// `sudo lsof -i :PORT` the way its reader asks on each runner: /proc on Linux (what lsof itself reads), lsof on macOS,
// Get-NetTCPConnection on Windows. Only for an engine on this machine: a remote engine's ports are its host's.
export function hostListener(port: number, runner: Runner): Promise<HostListener> {
  switch (runner.platform) {
    case "linux":
      return fromProc(port);
    case "darwin":
      return fromLsof(port);
    case "win32":
      return fromPowerShell(port);
    default:
      throw new Error(`no way known to ask a ${runner.platform} runner what listens on ${LOOPBACK}:${port}`);
  }
}

async function processes(): Promise<LinuxProcess[]> {
  const pids = (await readdir("/proc")).filter((entry) => /^\d+$/.test(entry));
  const read = (path: string) => readFile(path, "utf8").catch(() => "");
  return Promise.all(
    pids.map(async (pid) => ({
      pid,
      ppid: parentInStat(await read(`/proc/${pid}/stat`)),
      args: (await read(`/proc/${pid}/cmdline`)).split("\0").filter(Boolean),
    })),
  );
}

// Whether a process holds a socket among its descriptors; "hidden" when this user may not read them.
async function holds({ pid }: LinuxProcess, inode: string): Promise<boolean | "hidden"> {
  const fds = await readdir(`/proc/${pid}/fd`).catch((error: NodeJS.ErrnoException) => String(error.code));
  if (typeof fds === "string") return fds === "EACCES" ? "hidden" : false;
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")));
  return links.includes(`socket:[${inode}]`);
}

const natTable = () =>
  run("iptables", ["-t", "nat", "-S"]).then(
    ({ stdout }) => stdout,
    (error: Error) => error,
  );

// The process that holds the listening socket, looked for among the engine's proxies first. Without root their
// descriptors are hidden, but not their command lines; with the userland proxy disabled, the engine forwards by a NAT
// rule and nothing listens.
async function fromProc(port: number): Promise<HostListener> {
  const tool = `/proc/net/tcp, /proc/<pid>/fd (sudo lsof -i :${port})`;
  const inode = listeningInode(await readFile("/proc/net/tcp", "utf8"), LOOPBACK, port);
  if (!inode) {
    const nat = await natTable();
    if (nat instanceof Error)
      return {
        tool,
        evidence: `nothing listens on ${LOOPBACK}:${port}, and iptables -t nat -S failed: ${nat.message}`,
      };
    const rule = dnatRule(nat, port);
    if (!rule) return { tool, evidence: `nothing listens on ${LOOPBACK}:${port}, and no DNAT rule for it in iptables` };
    return {
      tool,
      listen: rule.listen,
      forwarder: "DNAT rule",
      to: rule.to,
      evidence: `iptables -t nat: ${rule.rule}`,
    };
  }
  const listen = `${LOOPBACK}:${port}`;
  const [all, nat] = await Promise.all([processes(), natTable()]);
  const uid = userInfo().uid;
  const described = (holder: LinuxProcess, how: string): HostListener => ({
    tool,
    listen,
    ...linuxForwarder(holder, all, port, nat instanceof Error ? undefined : nat),
    evidence: `pid ${holder.pid} ${how}: ${holder.args.join(" ")}`,
  });
  for (const proxy of all.filter((process) => isProxyFor(process, port))) {
    const held = await holds(proxy, inode);
    if (held === true) return described(proxy, `holds the socket (inode ${inode})`);
    if (held === "hidden")
      return described(proxy, `is the proxy for that port (its descriptors are hidden from uid ${uid})`);
  }
  const everyone = await Promise.all(all.map(async (candidate) => [candidate, await holds(candidate, inode)] as const));
  const owner = everyone.find(([, held]) => held === true)?.[0];
  if (owner) return described(owner, `holds the socket (inode ${inode})`);
  const hidden = everyone.filter(([, held]) => held === "hidden").length;
  return {
    tool,
    listen,
    evidence:
      `a socket listens on ${listen} (inode ${inode}), but no process this user (uid ${uid}) may read holds it ` +
      `and ${hidden} processes' descriptors are hidden: run as root, as the book's sudo lsof does`,
  };
}

// Docker Desktop's backend runs as the user, so lsof sees it without sudo; +c0 keeps COMMAND whole (lsof cuts it to
// nine characters by default: "com.docke").
async function fromLsof(port: number): Promise<HostListener> {
  const args = ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "+c0"];
  const tool = `lsof ${args.join(" ")}`;
  // lsof exits 1 when nothing matches, with nothing on stdout.
  const { stdout } = await run("lsof", args).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    if (error.stdout === "" && !error.stderr) return { stdout: "" };
    throw new Error(`${tool} failed: ${error.stderr || error.message}`);
  });
  const rows = lsofRows(stdout);
  const row = rows.find(({ name }) => name === `${LOOPBACK}:${port}`) ?? rows[0];
  if (!row) return { tool, evidence: `${tool} lists no listener` };
  return {
    tool,
    listen: row.name,
    ...vmForwarder("darwin", row.command),
    evidence: `${row.command} (pid ${row.pid}, user ${row.user}) listens on ${row.name}`,
  };
}

const powershell = async (command: string) =>
  (await run("powershell.exe", ["-NoProfile", "-NonInteractive", "-Command", command], { windowsHide: true })).stdout;

async function fromPowerShell(port: number): Promise<HostListener> {
  const listeners =
    `Get-NetTCPConnection -LocalPort ${port} -State Listen -ErrorAction SilentlyContinue | ` +
    "Select-Object LocalAddress,LocalPort,OwningProcess | ConvertTo-Json";
  const tool = `${listeners}; Get-Process -Id <OwningProcess>`;
  const rows = tcpListeners(await powershell(listeners));
  const row = rows.find(({ localAddress }) => localAddress === LOOPBACK) ?? rows[0];
  if (!row) return { tool, evidence: `Get-NetTCPConnection lists no listener on port ${port}` };
  const [owner] = windowsProcesses(
    await powershell(`Get-Process -Id ${row.owningProcess} | Select-Object Id,ProcessName,Path | ConvertTo-Json`),
  );
  const name = owner?.processName ?? `process ${row.owningProcess}`;
  return {
    tool,
    listen: `${row.localAddress}:${row.localPort}`,
    ...(owner ? vmForwarder("win32", owner.processName) : {}),
    evidence: `${name} (pid ${row.owningProcess}${owner?.path ? `, ${owner.path}` : ""}) listens on ${row.localAddress}:${row.localPort}`,
  };
}
