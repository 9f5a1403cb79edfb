// The private Podman's OCI runtime is runc behind a shell script that, before `runc create` and `runc exec`, runs this
// file on the container's config.json (or the exec's process.json). Podman 4.3.1 gives every container that names any
// ulimit an RLIMIT_NPROC (and RLIMIT_NOFILE) of 1048576 (addRlimits in pkg/specgen/generate/oci.go), and raising a
// hard limit takes CAP_SYS_RESOURCE, which this machine withholds from root: runc then fails with "error setting
// rlimit type 6: operation not permitted" (containers/podman#7510, #18555). A limit above what the runtime itself may
// set is lowered to that; with the capability, or below the limit, nothing changes.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

export interface Rlimit {
  type: string;
  hard: number;
  soft: number;
}

// /proc/<pid>/limits names, by the OCI spec's rlimit types.
const LIMIT_NAMES: Record<string, string> = {
  RLIMIT_CPU: "Max cpu time",
  RLIMIT_FSIZE: "Max file size",
  RLIMIT_DATA: "Max data size",
  RLIMIT_STACK: "Max stack size",
  RLIMIT_CORE: "Max core file size",
  RLIMIT_RSS: "Max resident set",
  RLIMIT_NPROC: "Max processes",
  RLIMIT_NOFILE: "Max open files",
  RLIMIT_MEMLOCK: "Max locked memory",
  RLIMIT_AS: "Max address space",
  RLIMIT_LOCKS: "Max file locks",
  RLIMIT_SIGPENDING: "Max pending signals",
  RLIMIT_MSGQUEUE: "Max msgqueue size",
  RLIMIT_NICE: "Max nice priority",
  RLIMIT_RTPRIO: "Max realtime priority",
  RLIMIT_RTTIME: "Max realtime timeout",
};

const CAP_SYS_RESOURCE = 24n;

/** The hard limits in a /proc/<pid>/limits text, by rlimit type ("unlimited" is Infinity). */
export function hardLimits(procLimits: string): Map<string, number> {
  const hard = new Map<string, number>();
  for (const [type, name] of Object.entries(LIMIT_NAMES)) {
    const line = procLimits.split("\n").find((row) => row.startsWith(`${name} `));
    const value = line?.slice(name.length).trim().split(/\s+/)[1];
    if (value) hard.set(type, value === "unlimited" ? Infinity : Number(value));
  }
  return hard;
}

/** Whether a /proc/<pid>/status text shows CAP_SYS_RESOURCE among the effective capabilities. */
export function mayRaiseLimits(procStatus: string): boolean {
  const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(procStatus)?.[1];
  return effective !== undefined && ((BigInt(`0x${effective}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

/** `rlimits` with every hard limit above `hard` lowered to it (and its soft limit with it); what changed, one line each. */
export function clampRlimits(rlimits: Rlimit[], hard: Map<string, number>): { rlimits: Rlimit[]; lowered: string[] } {
  const lowered: string[] = [];
  const clamped = rlimits.map((limit) => {
    const most = hard.get(limit.type) ?? Infinity;
    if (limit.hard <= most) return limit;
    lowered.push(`${limit.type} ${limit.soft}:${limit.hard} -> ${Math.min(limit.soft, most)}:${most}`);
    return { ...limit, hard: most, soft: Math.min(limit.soft, most) };
  });
  return { rlimits: clamped, lowered };
}

// `node rlimits.ts SPEC_FILE LOG_FILE`: a config.json holds the limits under .process, an exec's process.json at its top.
function main([file, log]: string[]): void {
  if (!file || mayRaiseLimits(readFileSync("/proc/self/status", "utf8"))) return;
  const spec = JSON.parse(readFileSync(file, "utf8")) as { process?: { rlimits?: Rlimit[] }; rlimits?: Rlimit[] };
  const holder = spec.process ?? spec;
  if (!holder.rlimits?.length) return;
  const { rlimits, lowered } = clampRlimits(holder.rlimits, hardLimits(readFileSync("/proc/self/limits", "utf8")));
  if (lowered.length === 0) return;
  holder.rlimits = rlimits;
  writeFileSync(file, JSON.stringify(spec));
  if (log) appendFileSync(log, `${new Date().toISOString()} ${file}: lowered ${lowered.join(", ")}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
