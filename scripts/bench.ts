// `npm run bench`: what the suite costs beyond its containers' own start time, side by side with the same labs done
// by a plain sequential bash script of docker CLI commands (bench/labs.sh).
//
// 1. Runs the lab suite (vitest --project labs on the stand-ins) once, timed from spawn to exit, while it samples
//    the memory of the test process tree every 100 ms and follows the engine's events for the run's containers.
// 2. Runs bench/labs.sh, timed the same way.
// 3. Prints a Markdown table per lab, the suite / script ratio, the median per-step overhead and the runner's peak
//    memory against the targets of issue 8, and the machine it ran on.
//
// `node scripts/bench.ts [--warmup] [--steps] [--suite-only]`: --warmup first does one untimed run of each to warm
// the page cache and the engine; --steps adds a table of every step (duration, its containers' start-to-ready,
// overhead); --suite-only skips the script (for tuning the suite: no script column, no ratio).
// Exits 0 when a target is missed (it measures, it does not judge), 1 when the suite or the script fails.
// BENCH_DEBUG=<file> writes every container's events and ready time and every step's timing there as JSON.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { basename, join } from "node:path";
import { CATALOGUE } from "../helpers/catalogue.ts";

const ROOT = join(import.meta.dirname, "..");
const TARGETS = { ratio: 0.8, stepOverheadMs: 300, runnerMb: 400 };
const SAMPLE_MS = 100;
const LISTEN_POLL_MS = 10;
const LISTEN_LIMIT_MS = 60_000;
const args = new Set(process.argv.slice(2));
const WARMUP = args.has("--warmup");
const STEPS = args.has("--steps");
const SUITE_ONLY = args.has("--suite-only");

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

// ------------------------------------------------------------------------------------------------ the engine API

interface Endpoint {
  socketPath?: string;
  host?: string;
  port?: number;
}

function engineEndpoint(): Endpoint {
  const value = process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
  if (value.startsWith("unix://")) return { socketPath: value.slice("unix://".length) };
  const url = new URL(value.replace(/^tcp:/, "http:"));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

const ENGINE = engineEndpoint();

function engineRequest(path: string, method = "GET"): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options: RequestOptions = { ...ENGINE, path, method, headers: { host: "docker" } };
    const req = httpRequest(options, resolve);
    req.on("error", reject);
    req.end();
  });
}

async function engineJson<T>(path: string): Promise<T | undefined> {
  const response = await engineRequest(path);
  let body = "";
  for await (const chunk of response) body += chunk;
  return response.statusCode === 200 ? (JSON.parse(body) as T) : undefined;
}

// ------------------------------------------------------------------------------------ helpers for child processes

interface Finished {
  code: number;
  wallMs: number;
  spawnedAt: number;
  exitedAt: number;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  onSpawn?: (pid: number) => void,
  onStdout?: (stdout: string) => void,
) {
  return new Promise<Finished>((resolve, reject) => {
    const started = performance.now();
    const spawnedAt = Date.now();
    const child = spawn(command, argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout);
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    if (child.pid !== undefined) onSpawn?.(child.pid);
    child.on("close", (code) =>
      resolve({
        code: code ?? 1,
        wallMs: performance.now() - started,
        spawnedAt,
        exitedAt: Date.now(),
        stdout,
        stderr,
      }),
    );
  });
}

async function capture(command: string, argv: string[]): Promise<string> {
  const { code, stdout } = await run(command, argv, process.env);
  return code === 0 ? stdout.trim() : "";
}

const tail = (text: string, lines = 40) => text.trimEnd().split("\n").slice(-lines).join("\n");

// --------------------------------------------------------------------------------------------- memory sampling

// Peak resident memory of the test process tree, read from /proc every 100 ms. The runner is vitest: its main
// process and the processes it forks (a worker per spec file, its watchdog). Other node processes in the tree are
// helpers the suite spawns (the teardown guardian); anything else is not node (Chromium for the browser steps).
// A peak of a sum is the largest sum seen in one sample; summed RSS counts pages shared between processes once per
// process, so the sums are upper bounds.
class MemorySampler {
  peak = { main: 0, runner: 0, helpers: 0, tree: 0 };
  peakForks = 0;
  helperNames = new Set<string>();
  samples = 0;
  private timer?: NodeJS.Timeout;
  private readonly nodeExe = readlinkSync("/proc/self/exe");

  start(root: number): void {
    this.timer = setInterval(() => this.sample(root), SAMPLE_MS);
    this.sample(root);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(root: number): void {
    const children = new Map<number, number[]>();
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const list = children.get(ppid) ?? [];
        list.push(Number(entry));
        children.set(ppid, list);
      } catch {
        // the process ended while the tree was read
      }
    }
    const sum = { main: 0, runner: 0, helpers: 0, tree: 0 };
    let forks = 0;
    const queue = [root];
    while (queue.length > 0) {
      const pid = queue.shift()!;
      queue.push(...(children.get(pid) ?? []));
      const rss = rssKb(pid);
      sum.tree += rss;
      if (pid === root) {
        sum.main += rss;
        sum.runner += rss;
      } else if (exeOf(pid) === this.nodeExe) {
        const command = cmdlineOf(pid);
        if (command.includes("vitest")) {
          sum.runner += rss;
          forks++;
        } else {
          sum.helpers += rss;
          const script = command.split("\0").find((arg) => /\.(ts|js|mjs)$/.test(arg));
          this.helperNames.add(script ? basename(script) : "node");
        }
      }
    }
    this.samples++;
    for (const key of Object.keys(sum) as (keyof typeof sum)[]) this.peak[key] = Math.max(this.peak[key], sum[key]);
    this.peakForks = Math.max(this.peakForks, forks);
  }
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

function rssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------- container start-to-ready

// A server's ready signal: its own log line where it has one; otherwise (nginx and cAdvisor log nothing when they
// start serving) the moment its listening socket appears in the container's network namespace, read on the host
// from /proc/<container pid>/net/tcp{,6}: no traffic to the server, and 10 ms resolution.
interface ReadyRule {
  image: RegExp;
  log?: RegExp;
  listen?: number;
  what: string;
}

const READY_RULES: ReadyRule[] = [
  { image: /mysql/, log: /port: 3306\b/, what: "log line with `port: 3306` (after the init server's `port: 0`)" },
  { image: /registry/, log: /listening on/, what: "log line `listening on`" },
  { image: /httpd/, log: /resuming normal operations/, what: "log line `resuming normal operations`" },
  { image: /visits/, log: /listening on/, what: "log line `visits listening on`" },
  { image: /nginx/, listen: 80, what: "a socket listening on :80 (polled every 10 ms)" },
  {
    image: /cadvisor/,
    listen: 8080,
    what: "a socket listening on :8080, opened once /healthz can answer (polled every 10 ms)",
  },
];

interface Tracked {
  id: string;
  name: string;
  image: string;
  session?: string;
  runId?: string;
  createdAt?: number;
  startedAt?: number;
  diedAt?: number;
  readyAt?: number;
  rule?: ReadyRule;
  readiness: "log" | "listen" | "start" | "not seen";
}

interface ContainerInspect {
  Config: {
    Image: string;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    Tty: boolean;
    Labels: Record<string, string> | null;
  };
  State: { Pid: number };
}

interface ImageInspect {
  Config: { Cmd: string[] | null; Entrypoint: string[] | null };
}

const sameCommand = (a: string[] | null, b: string[] | null) => JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

const parseTimestamp = (stamp: string) => {
  // The engine's RFC 3339 time with nanoseconds, 2026-11-27T18:37:05.813277314Z, in epoch milliseconds.
  const [, seconds = "", fraction = "0"] = stamp.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/) ?? [];
  return Date.parse(`${seconds}Z`) + Number(`0.${fraction}`) * 1000;
};

interface EngineEvent {
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

// Follows the engine's events for the containers of one run (labs.run=<id>, known once the global setup prints it).
class EngineWatch {
  containers = new Map<string, Tracked>();
  runId?: string;
  private pending = new Set<Promise<void>>();
  private streams: IncomingMessage[] = [];
  private images = new Map<string, Promise<ImageInspect | undefined>>();
  // Every labs.run container's run, seen before the run id is known too (the global setup starts one), and which
  // container mounted which volume: to find the anonymous volumes a run leaves behind.
  private runOf = new Map<string, string>();
  private mountedBy = new Map<string, string>();

  async start(): Promise<void> {
    await this.subscribe(
      { type: ["container"], label: ["labs.run"], event: ["create", "start", "die", "destroy"] },
      (event) => this.onEvent(event),
    );
    await this.subscribe({ type: ["volume"], event: ["mount"] }, (event) => {
      const container = event.Actor.Attributes.container;
      if (container) this.mountedBy.set(event.Actor.ID, container);
    });
  }

  private async subscribe(filters: Record<string, string[]>, onEvent: (event: EngineEvent) => void): Promise<void> {
    const stream = await engineRequest(`/events?filters=${encodeURIComponent(JSON.stringify(filters))}`);
    this.streams.push(stream);
    let partial = "";
    stream.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onEvent(JSON.parse(line) as EngineEvent);
    });
    stream.on("error", () => undefined);
  }

  async stop(): Promise<void> {
    // Followers end when their container is removed; give stragglers a moment, then cut them off.
    await Promise.race([Promise.all(this.pending), new Promise((resolve) => setTimeout(resolve, 3_000))]);
    for (const stream of this.streams) stream.destroy();
  }

  // Anonymous volumes that containers of the run mounted and that no container uses any more: removed, and named.
  async removeLeakedVolumes(): Promise<string[]> {
    const listing = await engineJson<{ Volumes: { Name: string }[] | null }>(
      `/volumes?filters=${encodeURIComponent(JSON.stringify({ dangling: ["true"] }))}`,
    );
    const dangling = new Set((listing?.Volumes ?? []).map(({ Name }) => Name));
    const leaked = [...this.mountedBy].filter(
      ([volume, container]) =>
        this.runOf.get(container) === this.runId && dangling.has(volume) && /^[0-9a-f]{64}$/.test(volume),
    );
    const removed: string[] = [];
    for (const [volume] of leaked) {
      const response = await engineRequest(`/volumes/${volume}`, "DELETE");
      response.resume();
      if (response.statusCode === 204) removed.push(volume.slice(0, 12));
    }
    return removed;
  }

  private onEvent(event: EngineEvent): void {
    const at = event.timeNano / 1e6;
    const { ID: id, Attributes: attributes } = event.Actor;
    if (attributes["labs.run"]) this.runOf.set(id, attributes["labs.run"]);
    if (!this.runId || attributes["labs.run"] !== this.runId) return;
    let tracked = this.containers.get(id);
    if (!tracked) {
      tracked = {
        id,
        name: attributes.name ?? id.slice(0, 12),
        image: attributes.image ?? "",
        session: attributes["org.testcontainers.session-id"],
        runId: attributes["labs.run"],
        readiness: "start",
      };
      this.containers.set(id, tracked);
    }
    if (event.Action === "create") tracked.createdAt = at;
    if (event.Action === "start" && tracked.startedAt === undefined) {
      tracked.startedAt = at;
      this.follow(tracked);
    }
    if (event.Action === "die" || event.Action === "destroy") tracked.diedAt ??= at;
  }

  private follow(tracked: Tracked): void {
    const work = this.readiness(tracked).catch(() => undefined);
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private imageConfig(ref: string): Promise<ImageInspect | undefined> {
    let found = this.images.get(ref);
    if (!found) {
      found = engineJson<ImageInspect>(`/images/${encodeURIComponent(ref)}/json`);
      this.images.set(ref, found);
    }
    return found;
  }

  private async readiness(tracked: Tracked): Promise<void> {
    const info = await engineJson<ContainerInspect>(`/containers/${tracked.id}/json`);
    if (!info) return;
    const describedAs = `${info.Config.Image} ${info.Config.Labels?.["labs.stand-in.for"] ?? ""}`;
    const rule = READY_RULES.find(({ image }) => image.test(describedAs));
    const image = await this.imageConfig(info.Config.Image);
    // A server image told to run something else (a mysql image running `sleep infinity`) starts no server.
    const runsServer =
      image &&
      sameCommand(info.Config.Cmd, image.Config.Cmd) &&
      sameCommand(info.Config.Entrypoint, image.Config.Entrypoint);
    if (!rule || !runsServer) return;
    tracked.rule = rule;
    tracked.readiness = "not seen";
    if (rule.log) await this.readyLine(tracked, rule.log, info.Config.Tty);
    else if (rule.listen) await this.listening(tracked, info.State.Pid, rule.listen);
  }

  private async readyLine(tracked: Tracked, pattern: RegExp, tty: boolean): Promise<void> {
    const response = await engineRequest(`/containers/${tracked.id}/logs?follow=1&stdout=1&stderr=1&timestamps=1`);
    let buffer = Buffer.alloc(0);
    let text = "";
    await new Promise<void>((resolve) => {
      const check = (line: string) => {
        const space = line.indexOf(" ");
        if (space > 0 && pattern.test(line.slice(space + 1))) {
          tracked.readyAt = parseTimestamp(line.slice(0, space));
          tracked.readiness = "log";
          response.destroy();
          resolve();
          return true;
        }
        return false;
      };
      const lines = (chunk: string) => {
        const all = (text + chunk).split("\n");
        text = all.pop() ?? "";
        for (const line of all) if (check(line.replace(/\r$/, ""))) return;
      };
      response.on("data", (chunk: Buffer) => {
        if (tty) return lines(chunk.toString());
        // Without a TTY the engine multiplexes stdout and stderr in frames: 1 byte stream, 3 zero, 4 bytes size.
        buffer = Buffer.concat([buffer, chunk]);
        while (buffer.length >= 8) {
          const size = buffer.readUInt32BE(4);
          if (buffer.length < 8 + size) break;
          lines(buffer.subarray(8, 8 + size).toString());
          buffer = buffer.subarray(8 + size);
        }
      });
      response.on("end", resolve);
      response.on("close", resolve);
      response.on("error", () => resolve());
    });
  }

  private async listening(tracked: Tracked, pid: number, port: number): Promise<void> {
    // /proc/<pid>/net/tcp: "sl local_address rem_address st ...", the address as hex IP:PORT, st 0A = LISTEN.
    const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
    const listens = () =>
      ["tcp", "tcp6"].some((table) => {
        try {
          return readFileSync(`/proc/${pid}/net/${table}`, "utf8")
            .split("\n")
            .some((line) => {
              const [, local, , state] = line.trim().split(/\s+/);
              return state === "0A" && local?.endsWith(`:${hexPort}`);
            });
        } catch {
          return false;
        }
      });
    const deadline = Date.now() + LISTEN_LIMIT_MS;
    while (pid > 0 && Date.now() < deadline && tracked.diedAt === undefined) {
      if (listens()) {
        tracked.readyAt = Date.now();
        tracked.readiness = "listen";
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, LISTEN_POLL_MS));
    }
  }
}

// -------------------------------------------------------------------------------------------- the suite's timing

interface Step {
  title: string;
  fullName: string;
  state: string;
  startTime: number;
  durationMs: number;
}

interface Module {
  moduleId: string;
  queuedAt?: number;
  startedAt?: number;
  endedAt?: number;
  steps: Step[];
}

interface Timings {
  runStartedAt: number;
  runEndedAt: number;
  modules: Module[];
}

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { name: string; assertionResults: { title: string; status: string; duration?: number }[] }[];
}

type Interval = [number, number];

function unionMs(intervals: Interval[]): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let current: Interval | undefined;
  for (const [a, b] of sorted) {
    if (!current || a > current[1]) {
      if (current) total += current[1] - current[0];
      current = [a, b];
    } else current[1] = Math.max(current[1], b);
  }
  if (current) total += current[1] - current[0];
  return total;
}

const clip = ([a, b]: Interval, [lo, hi]: Interval): Interval => [Math.max(a, lo), Math.min(b, hi)];

function readyInterval(container: Tracked): Interval | undefined {
  const from = container.createdAt ?? container.startedAt;
  const to = container.readyAt ?? container.startedAt;
  return from === undefined || to === undefined ? undefined : [from, Math.max(from, to)];
}

const labName = (moduleId: string) => basename(moduleId).replace(/\.spec\.ts$/, "");

interface Attribution {
  steps: Map<Step, Tracked[]>;
  modules: Map<Module, Tracked[]>;
  byTime: number;
  byTieBreak: number;
  outsideSteps: number;
}

// Each container is charged to the step that was running when the engine created it (file-scoped fixtures start
// inside the first step that uses them). Where steps of several files or of a concurrent describe overlap, the
// tie-break is: the file whose other containers share its testcontainers session (one per worker process), then
// the step whose title names the container's image, then the step that started last.
function attribute(modules: Module[], containers: Tracked[]): Attribution {
  const result: Attribution = { steps: new Map(), modules: new Map(), byTime: 0, byTieBreak: 0, outsideSteps: 0 };
  const allSteps = modules.flatMap((module) => module.steps.map((step) => ({ module, step })));
  const sessionModule = new Map<string, Module>();
  const assign = (container: Tracked, module: Module, step?: Step) => {
    result.modules.set(module, [...(result.modules.get(module) ?? []), container]);
    if (step) result.steps.set(step, [...(result.steps.get(step) ?? []), container]);
    if (container.session) sessionModule.set(container.session, module);
  };
  const ambiguous: { container: Tracked; candidates: typeof allSteps }[] = [];
  for (const container of containers) {
    const at = container.createdAt ?? container.startedAt ?? 0;
    const candidates = allSteps.filter(
      ({ step }) => step.startTime - 5 <= at && at <= step.startTime + step.durationMs + 5,
    );
    if (candidates.length === 1) {
      assign(container, candidates[0]!.module, candidates[0]!.step);
      result.byTime++;
    } else ambiguous.push({ container, candidates });
  }
  for (const { container, candidates } of ambiguous) {
    const at = container.createdAt ?? container.startedAt ?? 0;
    if (candidates.length === 0) {
      const module = modules.find(({ queuedAt, endedAt }) => (queuedAt ?? 0) <= at && at <= (endedAt ?? 0));
      if (module) assign(container, module);
      result.outsideSteps++;
      continue;
    }
    let pool = candidates;
    const sameSession = container.session ? sessionModule.get(container.session) : undefined;
    if (sameSession && pool.some(({ module }) => module === sameSession)) {
      pool = pool.filter(({ module }) => module === sameSession);
    }
    const imageWord = container.image.split("/").pop()?.split(":")[0]?.toLowerCase() ?? "";
    const named = pool.filter(({ step }) => imageWord && step.title.toLowerCase().includes(imageWord));
    if (named.length > 0) pool = named;
    const chosen = pool.reduce((latest, next) => (next.step.startTime > latest.step.startTime ? next : latest));
    assign(container, chosen.module, chosen.step);
    result.byTieBreak++;
  }
  return result;
}

function maxOverlap(modules: Module[]): number {
  const edges = modules.flatMap(({ queuedAt, endedAt }) => [
    [queuedAt ?? 0, 1],
    [endedAt ?? 0, -1],
  ]);
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let max = 0;
  for (const [, delta] of edges) max = Math.max(max, (now += delta!));
  return max;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

// ------------------------------------------------------------------------------------------------------ the runs

const SUITE_ENV = (() => {
  const env: NodeJS.ProcessEnv = { ...process.env, LABS_IMAGES: "local", TESTCONTAINERS_RYUK_DISABLED: "true" };
  delete env.LABS_IMAGE_MAP;
  delete env.LABS_BOOK_PORTS;
  return env;
})();

interface SuiteRun {
  finished: Finished;
  runId?: string;
  report?: JsonReport;
  timings?: Timings;
  memory: MemorySampler;
  watch: EngineWatch;
  leakedVolumes: string[];
}

async function runSuite(): Promise<SuiteRun> {
  const out = mkdtempSync(join(tmpdir(), "labs-bench-"));
  const memory = new MemorySampler();
  const watch = new EngineWatch();
  try {
    await watch.start();
    const finished = await run(
      process.execPath,
      [
        "node_modules/vitest/vitest.mjs",
        "run",
        "--project",
        "labs",
        "--reporter=json",
        "--reporter=./bench/timing-reporter.ts",
        `--outputFile=${join(out, "report.json")}`,
      ],
      { ...SUITE_ENV, BENCH_TIMINGS: join(out, "timings.json") },
      (pid) => memory.start(pid),
      (stdout) => (watch.runId ??= stdout.match(/^engine: .*; run (\S+)$/m)?.[1]),
    );
    memory.stop();
    await watch.stop();
    const leakedVolumes = await watch.removeLeakedVolumes();
    const read = <T>(file: string): T | undefined => {
      try {
        return JSON.parse(readFileSync(join(out, file), "utf8")) as T;
      } catch {
        return undefined;
      }
    };
    const runId = finished.stdout.match(/^engine: .*; run (\S+)$/m)?.[1];
    return {
      finished,
      runId,
      report: read("report.json"),
      timings: read("timings.json"),
      memory,
      watch,
      leakedVolumes,
    };
  } finally {
    memory.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

interface ScriptRun {
  finished: Finished;
  labs: Map<string, number>;
  total?: number;
}

async function runScript(): Promise<ScriptRun> {
  const finished = await run("bash", [join(ROOT, "bench", "labs.sh")], process.env);
  const labs = new Map<string, number>();
  for (const [, name, seconds] of finished.stdout.matchAll(/^lab (\S+) ([\d.]+)$/gm)) labs.set(name!, Number(seconds));
  const total = finished.stdout.match(/^total ([\d.]+)$/m)?.[1];
  return { finished, labs, total: total === undefined ? undefined : Number(total) };
}

// ----------------------------------------------------------------------------------------------------- the report

const s = (ms: number) => (ms / 1000).toFixed(1);
const mb = (kb: number) => Math.round(kb / 1024);
const verdict = (met: boolean) => (met ? "met" : "MISSED");

async function machine(): Promise<string> {
  const [engine, info, buildx] = await Promise.all([
    capture("docker", ["version", "--format", "{{.Server.Version}} ({{.Server.Os}}/{{.Server.Arch}})"]),
    capture("docker", ["info", "--format", "cgroup v{{.CgroupVersion}}, {{.Driver}}"]),
    capture("docker", ["buildx", "version"]),
  ]);
  const cpu = cpus()[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU";
  return (
    `${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory, Linux ${release()}, ` +
    `Docker ${engine} (${info}, ${buildx ? "BuildKit" : "legacy builder"}), Node ${process.version}`
  );
}

async function main(): Promise<number> {
  if (!(await capture("docker", ["version", "--format", "{{.Server.Version}}"]))) {
    console.error(
      `bench: no Docker engine answers at ${process.env.DOCKER_HOST || "unix:///var/run/docker.sock"}: start one`,
    );
    return 1;
  }
  const missing: string[] = [];
  for (const { standIn } of CATALOGUE) {
    if (!(await capture("docker", ["image", "inspect", "--format", "{{.Id}}", standIn]))) missing.push(standIn);
  }
  if (missing.length > 0) {
    console.error(`bench: the stand-in image(s) ${missing.join(", ")} are not built: run \`npm run images:build\``);
    return 1;
  }

  if (WARMUP) {
    log("warm-up: one untimed run of the suite and of the script");
    const suite = await runSuite();
    const script = await runScript();
    if (suite.finished.code !== 0 || script.finished.code !== 0) log("warm-up run failed; measuring anyway");
    if (suite.leakedVolumes.length) log(`warm-up: removed ${suite.leakedVolumes.length} volume(s) the suite left`);
  }

  log("running the suite: vitest run --project labs (LABS_IMAGES=local) ...");
  const suite = await runSuite();
  if (suite.finished.code !== 0 || !suite.timings || !suite.report) {
    console.error(tail(`${suite.finished.stdout}\n${suite.finished.stderr}`));
    console.error(`bench: the suite failed (exit ${suite.finished.code}); no benchmark`);
    return 1;
  }
  log(`suite: ${s(suite.finished.wallMs)} s${SUITE_ONLY ? "" : "; running bench/labs.sh ..."}`);
  const script = SUITE_ONLY ? undefined : await runScript();
  if (script && script.finished.code !== 0) {
    console.error(tail(`${script.finished.stdout}\n${script.finished.stderr}`));
    console.error(`bench: bench/labs.sh failed (exit ${script.finished.code}); no benchmark`);
    return 1;
  }
  if (script) log(`script: ${s(script.finished.wallMs)} s`);

  const modules = suite.timings.modules;
  const ofRun = [...suite.watch.containers.values()].filter(
    (container) => container.runId === suite.runId && (container.createdAt ?? container.startedAt) !== undefined,
  );
  // The legacy builder runs each Dockerfile step in a container of the image built so far (named by its id): those
  // are part of `docker build`, not containers a lab starts.
  const isBuildStep = ({ image }: Tracked) => /^(sha256:)?[0-9a-f]{12,64}$/.test(image);
  const containers = ofRun.filter((container) => !isBuildStep(container));
  const buildSteps = ofRun.length - containers.length;
  const who = attribute(modules, containers);
  if (process.env.BENCH_DEBUG) {
    writeFileSync(process.env.BENCH_DEBUG, JSON.stringify({ containers, modules }, null, 2));
  }

  const rows: string[] = [];
  const totals = { containers: 0, ready: 0, spec: 0, overhead: 0, script: 0 };
  for (const module of [...modules].sort((a, b) => (a.queuedAt ?? 0) - (b.queuedAt ?? 0))) {
    const own = who.modules.get(module) ?? [];
    const readyMs = unionMs(own.map(readyInterval).filter((interval) => interval !== undefined));
    const specMs = (module.endedAt ?? 0) - (module.queuedAt ?? 0);
    const scriptS = script?.labs.get(labName(module.moduleId));
    totals.containers += own.length;
    totals.ready += readyMs;
    totals.spec += specMs;
    totals.overhead += specMs - readyMs;
    totals.script += (scriptS ?? 0) * 1000;
    rows.push(
      `| ${labName(module.moduleId)} | ${module.steps.length} | ${own.length} | ${s(readyMs)} | ${s(specMs)} | ` +
        `${s(specMs - readyMs)} | ${scriptS === undefined ? "–" : scriptS.toFixed(1)} |`,
    );
  }

  const steps = modules.flatMap((module) =>
    module.steps
      .filter(({ state }) => state === "passed" || state === "failed")
      .map((step) => {
        const window: Interval = [step.startTime, step.startTime + step.durationMs];
        const intervals = (who.steps.get(step) ?? [])
          .map(readyInterval)
          .filter((interval) => interval !== undefined)
          .map((interval) => clip(interval, window));
        return { lab: labName(module.moduleId), step, overheadMs: step.durationMs - unionMs(intervals) };
      }),
  );
  const overheads = steps.map(({ overheadMs }) => overheadMs);
  const worst = steps.reduce((a, b) => (b.overheadMs > a.overheadMs ? b : a));
  const ratio = script ? suite.finished.wallMs / script.finished.wallMs : undefined;
  const medianMs = median(overheads);
  const memory = suite.memory;
  const runnerMb = mb(memory.peak.runner);
  const firstQueued = Math.min(...modules.map(({ queuedAt }) => queuedAt ?? Infinity));
  const lastEnded = Math.max(...modules.map(({ endedAt }) => endedAt ?? 0));
  const report = suite.report;
  const kinds = (kind: Tracked["readiness"]) => containers.filter(({ readiness }) => readiness === kind).length;

  const out = [
    "",
    "| Lab (spec file) | steps | containers | containers' start-to-ready (s) | spec total (s) | overhead (s) | script (s) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    `| **all labs** | ${modules.reduce((n, m) => n + m.steps.length, 0)} | ${totals.containers} | ${s(totals.ready)} | ` +
      `${s(totals.spec)} | ${s(totals.overhead)} | ${s(totals.script)} |`,
    "",
    `- Suite wall time: **${s(suite.finished.wallMs)} s** (vitest process from spawn to exit: global setup, ` +
      `${modules.length} spec files with at most ${maxOverlap(modules)} running at once, teardown audit; ` +
      `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped; ` +
      `${s(firstQueued - suite.finished.spawnedAt)} s before the first spec file, ` +
      `${s(suite.finished.exitedAt - lastEnded)} s after the last)`,
    script && ratio !== undefined
      ? `- Script wall time: **${s(script.finished.wallMs)} s** (bash bench/labs.sh, sequential docker CLI, ` +
        `100 ms polling)\n- Ratio suite / script: **${ratio.toFixed(2)}** — target ≤ ${TARGETS.ratio}: ` +
        verdict(ratio <= TARGETS.ratio)
      : "- Script: not run (--suite-only), so no ratio",
    `- Median per-step overhead: **${Math.round(medianMs)} ms** over ${steps.length} steps (p90 ` +
      `${Math.round(percentile(overheads, 90))} ms, max ${Math.round(worst.overheadMs)} ms in ${worst.lab} ` +
      `"${worst.step.title.slice(0, 60)}") — target < ${TARGETS.stepOverheadMs} ms: ` +
      `${verdict(medianMs < TARGETS.stepOverheadMs)}`,
    `- Runner peak memory: **${runnerMb} MB** (vitest's main process + the processes it forked, at most ` +
      `${memory.peakForks} at once; main process alone ${mb(memory.peak.main)} MB) — target < ${TARGETS.runnerMb} MB: ` +
      `${verdict(runnerMb < TARGETS.runnerMb)}. Beside it: node helpers the suite spawned ` +
      `(${[...memory.helperNames].join(", ") || "none"}) ${mb(memory.peak.helpers)} MB; the whole process tree, ` +
      `Chromium included, ${mb(memory.peak.tree)} MB. Peaks of summed VmRSS over ${memory.samples} samples ` +
      `every ${SAMPLE_MS} ms.`,
    `- Machine: ${await machine()}`,
    `- Warm-up: ${WARMUP ? "one untimed run of the suite and of the script before these" : "none (stand-ins built, `--warmup` adds an untimed first run of each)"}`,
    "",
    "Definitions:",
    "- containers' start-to-ready: per lab, the time during which at least one of its containers was getting ready " +
      "(the union of their intervals), each from the engine's `create` event to its ready signal: " +
      READY_RULES.map(({ image, what }) => `${image.source}: ${what}`).join("; ") +
      "; any other container (sleepers, shells, one-shot commands, a server image told to run something else): the " +
      "engine's `start` event. " +
      `This run: ${containers.length} containers (and ${buildSteps} build-step containers of \`docker build\`, ` +
      `left out), ${kinds("log")} ready by log line, ${kinds("listen")} by listening socket, ` +
      `${kinds("start")} at start${kinds("not seen") ? `, ${kinds("not seen")} never seen ready (counted to start)` : ""}.`,
    "- spec total: from vitest handing the spec file to a worker to the file's end (worker start, imports, steps, " +
      "file-scoped fixture teardown), as the main process saw it.",
    "- overhead: spec total − containers' start-to-ready. Per step: the step's duration − the union of the " +
      "start-to-ready intervals of the containers it created (clipped to the step); a container is charged to the " +
      `step running when the engine created it (${who.byTime} by time alone, ${who.byTieBreak} by tie-break, ` +
      `${who.outsideSteps} outside any step). Skipped steps are left out of the median.`,
    "- script: the lab's section of bench/labs.sh, from its first to its last command.",
  ];
  if (STEPS) {
    out.push(
      "",
      "| Lab | Step | duration (ms) | containers | start-to-ready (ms) | overhead (ms) |",
      "| --- | --- | ---: | ---: | ---: | ---: |",
      ...steps.map(
        ({ lab, step, overheadMs }) =>
          `| ${lab} | ${step.title.replaceAll("|", "\\|").slice(0, 70)} | ${Math.round(step.durationMs)} | ` +
          `${who.steps.get(step)?.length ?? 0} | ${Math.round(step.durationMs - overheadMs)} | ${Math.round(overheadMs)} |`,
      ),
    );
  }
  console.log(out.join("\n"));

  const left = async (kind: string, filter: string) =>
    (await capture("docker", [...(kind === "container" ? ["ps", "-a"] : [kind, "ls"]), "-q", "--filter", filter]))
      .split("\n")
      .filter(Boolean).length;
  const leftovers = [];
  for (const kind of ["container", "network", "volume"]) {
    const count = await left(kind, `label=labs.run=${suite.runId}`);
    if (count) leftovers.push(`${count} ${kind}(s) labelled labs.run=${suite.runId}`);
  }
  for (const kind of ["container", "network", "volume", "image"]) {
    const count = await left(kind, "label=labs.bench=1");
    if (count) leftovers.push(`${count} ${kind}(s) labelled labs.bench=1`);
  }
  console.log(
    `\nLeft on the engine: ${leftovers.length ? leftovers.join(", ") : "nothing of the suite's run or of the script"}` +
      (suite.leakedVolumes.length
        ? `; but the suite left ${suite.leakedVolumes.length} anonymous volume(s) that its containers mounted ` +
          `(${suite.leakedVolumes.join(", ")}): the bench removed them`
        : ""),
  );
  return 0;
}

process.exitCode = await main();
