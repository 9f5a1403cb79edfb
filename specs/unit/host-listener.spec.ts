import { describe, expect, it } from "vitest";
import {
  dnatRule,
  linuxForwarder,
  listeningInode,
  lsofRows,
  parentInStat,
  tcpListeners,
  vmForwarder,
  windowsProcesses,
  type LinuxProcess,
} from "../../helpers/lab/listener-output.ts";

const proc = (pid: string, ppid: string, command: string): LinuxProcess => ({ pid, ppid, args: command.split(" ") });

// Recorded on Debian 12 with its docker.io 20.10.24: a rootless engine (dockerd-rootless.sh, RootlessKit 1.1.0,
// slirp4netns 1.2.0) running `docker run -d -p 127.0.0.1:18001:80` of the nginx stand-in, read as root.
const PROC_NET_TCP = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   1: 0100007F:4651 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 299823 1 00000000b86627df 100 0 0 10 0",
  " 109: 0100007F:9F00 0100007F:4651 06 00000000:00000000 03:00001644 00000000     0        0 0 3 000000002ada5f2e",
].join("\n");
const ROOTLESS_FLAGS =
  "--net=slirp4netns --mtu=65520 --slirp4netns-sandbox=auto --slirp4netns-seccomp=auto --disable-host-loopback";
const ROOTLESS_BUILTIN = [
  proc("5011", "1", `rootlesskit ${ROOTLESS_FLAGS} --port-driver=builtin --copy-up=/etc --copy-up=/run`),
  proc("5033", "5011", `/proc/self/exe ${ROOTLESS_FLAGS} --port-driver=builtin --copy-up=/etc --copy-up=/run`),
  proc(
    "5058",
    "5011",
    "slirp4netns --mtu 65520 -r 3 --disable-host-loopback --enable-sandbox --enable-seccomp 5033 tap0",
  ),
  proc("5065", "5033", "dockerd --data-root /home/labsrl/docker-data --exec-root /run/user/1001/docker-exec"),
  proc(
    "6178",
    "5065",
    "/usr/bin/rootlesskit-docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 18001 -container-ip 172.17.0.2 -container-port 80",
  ),
  proc(
    "6184",
    "6178",
    "docker-proxy -container-ip 172.17.0.2 -container-port 80 -host-ip 127.0.0.1 -host-port 18001 -proto tcp",
  ),
];
const ROOTLESS_SLIRP = [
  proc("10744", "1", `rootlesskit ${ROOTLESS_FLAGS} --port-driver=slirp4netns --copy-up=/etc --copy-up=/run`),
  proc("10763", "10744", `/proc/self/exe ${ROOTLESS_FLAGS} --port-driver=slirp4netns --copy-up=/etc --copy-up=/run`),
  proc(
    "10782",
    "10744",
    "slirp4netns --mtu 65520 -r 3 --disable-host-loopback --api-socket /tmp/rootlesskit2436088393/.s4nn.sock --enable-sandbox --enable-seccomp 10763 tap0",
  ),
  proc("10797", "10763", "dockerd --data-root /home/labsrl/docker-data --exec-root /run/user/1001/docker-exec"),
  proc(
    "11477",
    "10797",
    "/usr/bin/rootlesskit-docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 18001 -container-ip 172.17.0.2 -container-port 80",
  ),
  proc(
    "11484",
    "11477",
    "docker-proxy -container-ip 172.17.0.2 -container-port 80 -host-ip 10.0.2.100 -host-port 18001 -proto tcp",
  ),
];
// Recorded on the same machine from the rootful engine (Debian's docker.io 20.10.24, userland proxy on).
const ROOTFUL_PROXY = proc(
  "14131",
  "12129",
  "/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 32780 -container-ip 172.17.0.2 -container-port 5000",
);
const NAT_RULES = [
  "-N DOCKER",
  "-A DOCKER -i docker0 -j RETURN",
  "-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 32780 -j DNAT --to-destination 172.17.0.2:5000",
  "-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 32781 -j DNAT --to-destination 172.17.0.3:3306",
].join("\n");

describe("what listens on a published port, on Linux (/proc, as lsof reads it)", () => {
  it("finds the listening socket's inode and not a connection to it", () => {
    expect(listeningInode(PROC_NET_TCP, "127.0.0.1", 18001)).toBe("299823");
    expect(listeningInode(PROC_NET_TCP, "127.0.0.1", 40704)).toBeUndefined();
    expect(listeningInode(PROC_NET_TCP, "127.0.0.2", 18001)).toBeUndefined();
  });

  it("reads a parent pid after a command name that holds spaces and parentheses", () => {
    // Recorded: /proc/6178/stat of the rootlesskit-docker-proxy above (comm is cut to 15 characters).
    expect(parentInStat("6178 (rootlesskit-doc) S 5065 5010 5010 0 -1 4194304 403 0 0 0 0")).toBe("5065");
    expect(parentInStat("77 (a (b) c) S 12 77 77 0 -1")).toBe("12");
  });

  it("Docker's docker-proxy names where it forwards on its command line", () => {
    expect(linuxForwarder(ROOTFUL_PROXY, [ROOTFUL_PROXY], 32780)).toEqual({
      forwarder: "docker-proxy",
      to: "172.17.0.2:5000",
      unseen: undefined,
    });
  });

  it("rootless Docker (port driver builtin): rootlesskit holds the port, its namespace's proxy names the container", () => {
    expect(linuxForwarder(ROOTLESS_BUILTIN[0]!, ROOTLESS_BUILTIN, 18001)).toEqual({
      forwarder: "rootlesskit",
      to: "172.17.0.2:80",
      unseen: undefined,
    });
  });

  it("rootless Docker (port driver slirp4netns): slirp4netns holds the port, rootlesskit's proxy names the container", () => {
    expect(linuxForwarder(ROOTLESS_SLIRP[2]!, ROOTLESS_SLIRP, 18001)).toEqual({
      forwarder: "slirp4netns",
      to: "172.17.0.2:80",
      unseen: undefined,
    });
  });

  it("takes no proxy from another engine's namespace, nor one for another port", () => {
    const elsewhere = [...ROOTLESS_SLIRP.slice(0, 4), ...ROOTLESS_BUILTIN.slice(3)];
    expect(linuxForwarder(ROOTLESS_SLIRP[2]!, elsewhere, 18001).to).toBeUndefined();
    expect(linuxForwarder(ROOTLESS_BUILTIN[0]!, ROOTLESS_BUILTIN, 18002).to).toBeUndefined();
  });

  it("rootful Podman: conmon holds the port and a DNAT rule forwards it (containers/conmon#144)", () => {
    // conmon's command line as podman#5541's debug log prints it; the rule is the DNAT syntax recorded above.
    const conmon = proc("4242", "1", "/usr/libexec/podman/conmon --api-version 1 -c 8abe143bceb5 -u 8abe143bceb5");
    expect(linuxForwarder(conmon, [conmon], 32781, NAT_RULES)).toMatchObject({
      forwarder: "conmon",
      to: "172.17.0.3:3306",
    });
    expect(linuxForwarder(conmon, [conmon], 32781, undefined)).toMatchObject({ forwarder: "conmon", to: undefined });
  });

  it.each([
    ["containers-rootlessport", "rootlessport"],
    ["/usr/libexec/podman/rootlessport", "rootlessport"],
    ["/usr/bin/pasta --config-net -t 127.0.0.1/18001-18001:80-80", "pasta"],
    ["/usr/bin/qemu-system-x86_64 -accel kvm", "qemu"],
  ])("%s is %s, which forwards where /proc cannot follow, and says why", (command, forwarder) => {
    const holder = proc("9", "1", command);
    expect(linuxForwarder(holder, [holder], 18001)).toEqual({ forwarder, to: undefined, unseen: expect.any(String) });
  });

  it("knows no forwarder in a process that merely listens", () => {
    const holder = proc("9", "1", "nc -l 127.0.0.1 18001");
    expect(linuxForwarder(holder, [holder], 18001)).toEqual({});
  });

  it("reads the DNAT rule of a port when nothing listens (userland proxy off)", () => {
    expect(dnatRule(NAT_RULES, 32780)).toEqual({
      listen: "127.0.0.1:32780",
      to: "172.17.0.2:5000",
      rule: "-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 32780 -j DNAT --to-destination 172.17.0.2:5000",
    });
    expect(dnatRule(NAT_RULES, 3278)).toBeUndefined();
  });
});

describe("what listens on a published port, on macOS (lsof -nP -iTCP:<port> -sTCP:LISTEN +c0)", () => {
  it.each([
    // docker/for-mac#4906 (Docker Desktop 2.3, lsof -i tcp:3000, so a service name and COMMAND cut to 9 characters)
    [
      "com.docke 55311 weyert   51u  IPv6 0xedfb4fafdaeeef61      0t0  TCP *:hbci (LISTEN)",
      { command: "com.docke", pid: 55311, user: "weyert", name: "*:hbci" },
    ],
    // yoshi-debug.dev/posts/docker-mac-networking (Docker Desktop 4.15, lsof -nP)
    [
      "com.docke  1154 yoshi   21u     IPv6 0x4dda2711431557c7         0t0                 TCP *:49675 (LISTEN)",
      { command: "com.docke", pid: 1154, user: "yoshi", name: "*:49675" },
    ],
    // podman#28047 (Podman machine on macOS)
    [
      "gvproxy   41394          xavier    9u  IPv4 0x93afc67c8a48b941      0t0    TCP localhost:50451 (LISTEN)",
      { command: "gvproxy", pid: 41394, user: "xavier", name: "localhost:50451" },
    ],
    // Recorded here with lsof 4.95 and +c0, the rootless engine above
    [
      "rootlesskit 5011 labsrl   12u  IPv4 299823      0t0  TCP 127.0.0.1:18001 (LISTEN)",
      { command: "rootlesskit", pid: 5011, user: "labsrl", name: "127.0.0.1:18001" },
    ],
  ])("reads %s", (line, row) => {
    expect(lsofRows(`COMMAND     PID   USER   FD   TYPE DEVICE SIZE/OFF NODE NAME\n${line}\n`)).toEqual([row]);
  });

  // The lines above as +c0 writes COMMAND: whole, spaces and all (lsof(8): "+c 0" means all of the name).
  it("keeps a whole COMMAND with +c0, spaces and all, and skips what is not listening", () => {
    const output = [
      "COMMAND            PID  USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME",
      "com.docker.backend 1154 yoshi   21u  IPv4 0x4dda2711431557c7      0t0  TCP 127.0.0.1:8001 (LISTEN)",
      "Google Chrome Helper   880 yoshi   40u  IPv4 0x4dda2711431588c7      0t0  TCP 127.0.0.1:51000->127.0.0.1:8001 (ESTABLISHED)",
    ].join("\n");
    expect(lsofRows(output)).toEqual([
      { command: "com.docker.backend", pid: 1154, user: "yoshi", name: "127.0.0.1:8001" },
    ]);
    expect(lsofRows("")).toEqual([]);
  });

  it("takes Docker Desktop's backend for its forwarder, and no cut-off name", () => {
    expect(vmForwarder("darwin", "com.docker.backend")).toMatchObject({ forwarder: "com.docker.backend" });
    expect(vmForwarder("darwin", "com.docker.vpnkit")).toMatchObject({ forwarder: "com.docker.vpnkit" });
    expect(vmForwarder("darwin", "gvproxy")).toMatchObject({ forwarder: "gvproxy" });
    expect(vmForwarder("darwin", "com.docke")).toEqual({});
    expect(vmForwarder("darwin", "nginx")).toEqual({});
  });
});

// Windows PowerShell 5.1 (powershell.exe) writes ConvertTo-Json with four-space indents and two spaces after each
// colon (PowerShell#2736 shows its output), one object for a single result and an array for several. The values are
// those docker/for-win#14859 shows for Docker Desktop's backend (Get-Process -Id 25740).
const ONE_LISTENER = `{
    "LocalAddress":  "127.0.0.1",
    "LocalPort":  8001,
    "OwningProcess":  25740
}\r\n`;
const TWO_LISTENERS = `[
    {
        "LocalAddress":  "::1",
        "LocalPort":  8001,
        "OwningProcess":  25740
    },
    {
        "LocalAddress":  "127.0.0.1",
        "LocalPort":  8001,
        "OwningProcess":  25740
    }
]`;
const BACKEND = `{
    "Id":  25740,
    "ProcessName":  "com.docker.backend",
    "Path":  "C:\\\\Program Files\\\\Docker\\\\Docker\\\\resources\\\\com.docker.backend.exe"
}`;

describe("what listens on a published port, on Windows (Get-NetTCPConnection, Get-Process)", () => {
  it("reads one listener, several, or none", () => {
    expect(tcpListeners(ONE_LISTENER)).toEqual([{ localAddress: "127.0.0.1", localPort: 8001, owningProcess: 25740 }]);
    expect(tcpListeners(TWO_LISTENERS).map(({ localAddress }) => localAddress)).toEqual(["::1", "127.0.0.1"]);
    expect(tcpListeners("")).toEqual([]);
    expect(tcpListeners("\uFEFF" + ONE_LISTENER)).toHaveLength(1);
  });

  it("reads the owning process's name and path", () => {
    expect(windowsProcesses(BACKEND)).toEqual([
      {
        id: 25740,
        processName: "com.docker.backend",
        path: "C:\\Program Files\\Docker\\Docker\\resources\\com.docker.backend.exe",
      },
    ]);
    expect(windowsProcesses('{ "Id": 4, "ProcessName": "System", "Path": null }')).toEqual([
      { id: 4, processName: "System", path: undefined },
    ]);
  });

  it("refuses an answer that is no list of objects", () => {
    expect(() => tcpListeners('"Get-NetTCPConnection : No matching MSFT_NetTCPConnection objects"')).toThrow(
      /Get-NetTCPConnection did not answer with objects/,
    );
  });

  it("takes Docker Desktop's backend, its older vpnkit and WSL's relay for forwarders", () => {
    expect(vmForwarder("win32", "com.docker.backend")).toMatchObject({ forwarder: "com.docker.backend" });
    expect(vmForwarder("win32", "vpnkit")).toMatchObject({ forwarder: "vpnkit" });
    expect(vmForwarder("win32", "wslrelay")).toMatchObject({ forwarder: "wslrelay" });
    expect(vmForwarder("win32", "svchost")).toEqual({});
  });
});
