// What each host's own tool says listens on a published port, read from the tool's output. Pure, so that unit specs
// prove every runner's branch on recorded output: /proc on Linux, lsof on macOS, PowerShell on Windows.

export interface Listener {
  // address:port as the tool shows it listening
  listen?: string;
  // the engine's forwarder the holder is, when it is one this suite knows
  forwarder?: string;
  // the container's address:port, where the tool can know it
  to?: string;
  // why the tool cannot know where it forwards
  unseen?: string;
  evidence: string;
}

// ---- Linux: /proc/net/tcp, /proc/<pid>/cmdline and stat, iptables -t nat -S

// /proc/net/tcp writes 127.0.0.1:8001 as 0100007F:1F41; state 0A is LISTEN; the tenth field is the socket's inode.
export function listeningInode(procNetTcp: string, address: string, port: number): string | undefined {
  const hex = address
    .split(".")
    .reverse()
    .map((octet) => Number(octet).toString(16).padStart(2, "0"))
    .join("");
  const local = `${hex}:${port.toString(16).padStart(4, "0")}`.toUpperCase();
  const rows = procNetTcp.split("\n").map((line) => line.trim().split(/\s+/));
  return rows.find((fields) => fields[1] === local && fields[3] === "0A")?.[9];
}

export interface LinuxProcess {
  pid: string;
  ppid: string;
  args: string[];
}

// The parent pid in /proc/<pid>/stat: the field after the command name, which may itself hold spaces and parentheses.
export const parentInStat = (stat: string) => stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? "";

const program = (args: string[]) => (args[0] ?? "").split("/").pop()!;

function flags(args: string[]): Record<string, string> {
  return Object.fromEntries(
    args.flatMap((arg, index) => (/^-{1,2}[a-z]/.test(arg) ? [[arg.replace(/^-+/, ""), args[index + 1] ?? ""]] : [])),
  );
}

// Docker's userland proxy and RootlessKit's drop-in for it name both ends on their command line.
export const isProxyFor = ({ args }: LinuxProcess, port: number) =>
  program(args).endsWith("docker-proxy") && flags(args)["host-port"] === `${port}`;

const proxyEnds = ({ args }: LinuxProcess) => {
  const proxy = flags(args);
  return {
    listen: `${proxy["host-ip"]}:${proxy["host-port"]}`,
    to: `${proxy["container-ip"]}:${proxy["container-port"]}`,
  };
};

function descendants(root: string, processes: LinuxProcess[]): LinuxProcess[] {
  const children = processes.filter(({ ppid }) => ppid === root);
  return children.flatMap((child) => [child, ...descendants(child.pid, processes)]);
}

export interface DnatRule {
  listen?: string;
  to?: string;
  rule: string;
}

// A DNAT rule for the port in `iptables -t nat -S`: Docker's with the userland proxy off (chain DOCKER), CNI's and
// netavark's for rootful Podman.
export function dnatRule(iptablesRules: string, port: number): DnatRule | undefined {
  const rule = iptablesRules.split("\n").find((line) => line.includes(`--dport ${port} `) && line.includes("-j DNAT"));
  if (!rule) return undefined;
  const address = rule.match(/-d (\S+?)(\/32)? /)?.[1];
  return { listen: address && `${address}:${port}`, to: rule.match(/--to-destination (\S+)/)?.[1], rule };
}

interface LinuxForwarder {
  name: string;
  program: RegExp;
  // where it forwards, from the processes around it or the NAT table
  to?: (holder: LinuxProcess, processes: LinuxProcess[], port: number, nat?: string) => string | undefined;
  unseen?: string;
}

// RootlessKit's parent process listens for the builtin port driver, slirp4netns (its child) for the slirp4netns
// driver; dockerd runs inside their namespaces and starts a proxy per published port there, visible in /proc:
// recorded with Debian 12's rootless Docker 20.10 and RootlessKit 1.1 (rootlesskit docs/port.md; moby#38913, #41146).
const proxyInRootlessKit = (rootlesskit: string, processes: LinuxProcess[], port: number) => {
  const proxy = descendants(rootlesskit, processes).find((process) => isProxyFor(process, port));
  return proxy && proxyEnds(proxy).to;
};

const LINUX: LinuxForwarder[] = [
  { name: "docker-proxy", program: /docker-proxy$/, to: (holder) => proxyEnds(holder).to },
  {
    name: "rootlesskit",
    program: /^rootlesskit$/,
    to: (holder, all, port) => proxyInRootlessKit(holder.pid, all, port),
  },
  {
    name: "slirp4netns",
    program: /^slirp4netns$/,
    to: (holder, all, port) => proxyInRootlessKit(holder.ppid, all, port),
  },
  // Podman passes the published ports' sockets to conmon and forwards by NAT rules (containers/conmon#144).
  { name: "conmon", program: /^conmon$/, to: (_, __, port, nat) => (nat ? dnatRule(nat, port)?.to : undefined) },
  {
    name: "rootlessport",
    program: /^(containers-)?rootlessport$/,
    unseen:
      "rootless Podman's rootlessport reads its port mappings from stdin, not its command line, and forwards into " +
      "Podman's rootless network namespace (podman pkg/rootlessport)",
  },
  {
    name: "pasta",
    program: /^pasta(\.avx2)?$/,
    unseen: "pasta, rootless Podman 5's default network (podman#22933), forwards into the container's own namespace",
  },
  {
    name: "qemu",
    program: /^qemu-system-/,
    unseen: "Docker Desktop for Linux forwards through its VM's qemu process (docs: Networking on Docker Desktop)",
  },
];

// What the process holding the listening socket is, and where it forwards to when its command line, the processes
// in its namespace or the NAT table say so.
export function linuxForwarder(
  holder: LinuxProcess,
  processes: LinuxProcess[],
  port: number,
  nat?: string,
): Pick<Listener, "forwarder" | "to" | "unseen"> {
  const known = LINUX.find(({ program: name }) => name.test(program(holder.args)));
  if (!known) return {};
  return { forwarder: known.name, to: known.to?.(holder, processes, port, nat), unseen: known.unseen };
}

// ---- macOS: lsof -nP -iTCP:<port> -sTCP:LISTEN +c0

export interface LsofRow {
  command: string;
  pid: number;
  user: string;
  name: string;
}

// lsof's columns: COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME, then the TCP state. COMMAND may hold spaces
// with +c0, so a row is read from its PID on.
const LSOF_ROW = /^(.+?)\s+(\d+)\s+(\S+)\s+\S+\s+IPv[46]\s+\S+\s+\S+\s+TCP\s+(\S+)(?:\s+\((\w+)\))?$/;

export function lsofRows(output: string): LsofRow[] {
  return output.split("\n").flatMap((line) => {
    const row = LSOF_ROW.exec(line.trim());
    if (!row || (row[5] && row[5] !== "LISTEN")) return [];
    return [{ command: row[1]!, pid: Number(row[2]), user: row[3]!, name: row[4]! }];
  });
}

// ---- Windows: Get-NetTCPConnection and Get-Process through ConvertTo-Json

export interface TcpListener {
  localAddress: string;
  localPort: number;
  owningProcess: number;
}

export interface WindowsProcess {
  id: number;
  processName: string;
  path?: string;
}

// ConvertTo-Json writes one object for a single result and an array for several (PowerShell's -AsArray exists only
// from 6.2 on; powershell.exe is 5.1), and nothing at all for none.
function jsonRows(output: string, what: string): Record<string, unknown>[] {
  const text = output.replace(/^\uFEFF/, "").trim();
  if (!text) return [];
  const parsed: unknown = JSON.parse(text);
  const rows = Array.isArray(parsed) ? parsed : [parsed];
  if (!rows.every((row) => typeof row === "object" && row !== null))
    throw new Error(`${what} did not answer with objects: ${text.slice(0, 200)}`);
  return rows as Record<string, unknown>[];
}

export function tcpListeners(output: string): TcpListener[] {
  return jsonRows(output, "Get-NetTCPConnection").map((row) => ({
    localAddress: String(row.LocalAddress),
    localPort: Number(row.LocalPort),
    owningProcess: Number(row.OwningProcess),
  }));
}

export function windowsProcesses(output: string): WindowsProcess[] {
  return jsonRows(output, "Get-Process").map((row) => ({
    id: Number(row.Id),
    processName: String(row.ProcessName),
    path: typeof row.Path === "string" ? row.Path : undefined,
  }));
}

// ---- macOS and Windows: the engine runs in a VM, and a process of the host forwards into it

// Docker Desktop: "Networking on Docker Desktop" (docs.docker.com/desktop/features/networking) names
// com.docker.backend (com.docker.backend.exe) as the network proxy on Mac and Windows, running as the user; older
// versions listened from vpnkit (docker/for-mac#2842, docker/for-win#3028). Podman machine on a Mac listens from
// gvproxy (podman#28047); an engine in a WSL 2 distro is reached through WSL's wslrelay (microsoft/WSL#10601).
const VM_FORWARDERS: Record<"darwin" | "win32", { name: string; unseen: string }[]> = {
  darwin: [
    { name: "com.docker.backend", unseen: "Docker Desktop forwards into its VM, where the container's address is" },
    { name: "com.docker.vpnkit", unseen: "Docker Desktop's vpnkit forwards into its VM" },
    { name: "gvproxy", unseen: "Podman machine's gvproxy forwards into its VM" },
  ],
  win32: [
    { name: "com.docker.backend", unseen: "Docker Desktop forwards into its VM, where the container's address is" },
    { name: "vpnkit", unseen: "Docker Desktop's vpnkit forwards into its Hyper-V VM" },
    { name: "wslrelay", unseen: "WSL's wslrelay forwards into the WSL 2 VM, where the engine runs" },
  ],
};

export function vmForwarder(platform: "darwin" | "win32", processName: string): Pick<Listener, "forwarder" | "unseen"> {
  const known = VM_FORWARDERS[platform].find(({ name }) => name === processName);
  return known ? { forwarder: known.name, unseen: known.unseen } : {};
}
