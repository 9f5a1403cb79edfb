// A second machine, simulated: a network namespace of the run's own with a veth pair whose addresses it chose, and
// TLS certificates made for the run, so that an engine inside it is reached only over tcp:// with TLS, as a reader's
// engine on another machine is. `ip netns exec` would remount /sys and hide the cgroup mounts, so the engine is
// started with `nsenter --net` (see ENVIRONMENT.md).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { prefixOf } from "./host-setup.ts";

const DOCKER_TLS_PORT = 2376;

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
// `command` is split at its spaces; an argument that holds spaces follows it.
const openssl = (cwd: string, command: string, ...args: string[]) =>
  execFileSync("openssl", [...command.split(" "), ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });

// A CA, a server certificate for the namespace's address and a client certificate, valid for a day: the layout
// DOCKER_CERT_PATH names (ca.pem, cert.pem, key.pem) on the client side.
function certificates(dir: string, address: string) {
  const client = join(dir, "client");
  mkdirSync(client, { recursive: true });
  const request = (name: string, subject: string) =>
    openssl(dir, `req -newkey rsa:2048 -nodes -keyout ${name}-key.pem -out ${name}.csr -subj`, subject);
  const sign = (name: string, out: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    const ca = "-CA ca.pem -CAkey ca-key.pem -CAcreateserial";
    openssl(dir, `x509 -req -in ${name}.csr ${ca} -out ${out} -days 1 -extfile ${name}.ext`);
  };
  openssl(
    dir,
    "req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 1 -subj",
    "/CN=container-labs run CA",
  );
  request("server", `/CN=${address}`);
  sign("server", "server-cert.pem", `subjectAltName=IP:${address}\nextendedKeyUsage=serverAuth\n`);
  request("client", "/CN=container-labs");
  sign("client", join("client", "cert.pem"), "extendedKeyUsage=clientAuth\n");
  copyFileSync(join(dir, "ca.pem"), join(client, "ca.pem"));
  copyFileSync(join(dir, "client-key.pem"), join(client, "key.pem"));
  const at = (file: string) => join(dir, file);
  const server = ["--tlscacert", at("ca.pem"), "--tlscert", at("server-cert.pem"), "--tlskey", at("server-key.pem")];
  return { server: ["--tlsverify", ...server], client };
}

// `net` is a 10.x.0.0/16 no route of the machine uses: the veth pair takes its first /30.
export function addRemoteHost(netns: string, device: string, net: string, dir: string) {
  const prefix = prefixOf(net);
  const [near, far] = [`${prefix}0.1`, `${prefix}0.2`];
  ip("netns", "add", netns);
  ip("link", "add", `${device}h`, "type", "veth", "peer", "name", `${device}n`);
  ip("link", "set", `${device}n`, "netns", netns);
  ip("addr", "add", `${near}/30`, "dev", `${device}h`);
  ip("link", "set", `${device}h`, "up");
  ip("-n", netns, "addr", "add", `${far}/30`, "dev", `${device}n`);
  ip("-n", netns, "link", "set", `${device}n`, "up");
  ip("-n", netns, "link", "set", "lo", "up");
  const tls = certificates(dir, far);
  return {
    nsenter: ["nsenter", `--net=/var/run/netns/${netns}`],
    serverTls: [...tls.server, "--host", `tcp://${far}:${DOCKER_TLS_PORT}`],
    clientEnv: { DOCKER_HOST: `tcp://${far}:${DOCKER_TLS_PORT}`, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: tls.client },
  };
}

// Deleting the namespace deletes the veth pair with it.
export function removeRemoteHost(netns: string, device: string): void {
  spawnSync("ip", ["netns", "del", netns], { stdio: "ignore" });
  spawnSync("ip", ["link", "del", `${device}h`], { stdio: "ignore" });
}
