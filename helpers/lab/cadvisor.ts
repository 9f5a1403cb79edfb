import { setTimeout as sleep } from "node:timers/promises";
import { Pool, request } from "undici";
import { expect } from "vitest";
import { pollUntil } from "../util/poll.ts";
import type { Point } from "./evidence.ts";

export interface CpuSample {
  at: number;
  seconds: number;
}

interface ContainerStats {
  timestamp: string;
  cpu: { usage: { total: number } };
}

interface ContainerInfo {
  aliases: string[];
  stats: ContainerStats[];
}

// What /api/v1.3/machine says of the machine cAdvisor runs on (a few of its fields).
export interface MachineInfo {
  num_cores: number;
  memory_capacity: number;
  machine_id: string;
  boot_id: string;
}

const METRIC = "container_cpu_usage_seconds_total{";

const sampleOf = ({ timestamp, cpu }: ContainerStats): CpuSample => ({
  at: Date.parse(timestamp),
  seconds: cpu.usage.total / 1e9,
});

export const cpuMetricLines = (metrics: string) => metrics.split("\n").filter((line) => line.startsWith(METRIC));

export const metricName = (line: string) => line.match(/[{,]name="([^"]*)"/)?.[1];

// The sum over the series' lines (cAdvisor 0.38 writes one per CPU, v0.46 one in total), stamped with cAdvisor's time;
// a line without a timestamp is stamped `now`.
export function metricsSampleOf(lines: string[], name: string, now = Date.now()): CpuSample | undefined {
  const values = lines
    .filter((line) => metricName(line) === name)
    .map((line) =>
      line
        .slice(line.lastIndexOf("}") + 1)
        .trim()
        .split(" ")
        .map(Number),
    );
  if (values.length === 0) return undefined;
  return {
    at: Math.max(...values.map(([, stamp]) => stamp ?? now)),
    seconds: values.reduce((sum, [value = NaN]) => sum + value, 0),
  };
}

// cAdvisor's HTTP API at `baseUrl`, as the lab reads it.
export function cadvisorApi(baseUrl: string) {
  const containers = async (): Promise<ContainerInfo[]> => {
    const response = await request(`${baseUrl}/api/v1.3/docker`);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    return Object.values((await response.body.json()) as Record<string, ContainerInfo>);
  };
  const metricLines = async () => cpuMetricLines(await (await request(`${baseUrl}/metrics`)).body.text());
  return {
    containers,
    machine: async () => (await (await request(`${baseUrl}/api/v1.3/machine`)).body.json()) as MachineInfo,
    samples: async (name: string): Promise<CpuSample[]> =>
      ((await containers()).find(({ aliases }) => aliases.includes(name))?.stats ?? []).map(sampleOf),
    // `max_age` has cAdvisor take a fresh sample when its last is older.
    freshSample: async (name: string, maxAgeMs: number): Promise<CpuSample | undefined> => {
      const query = `type=docker&count=1&max_age=${maxAgeMs}ms`;
      const response = await request(`${baseUrl}/api/v2.0/stats/${name}?${query}`);
      if (response.statusCode !== 200) {
        await response.body.dump();
        return undefined;
      }
      const [stats] = Object.values((await response.body.json()) as Record<string, ContainerStats[]>);
      const latest = stats?.at(-1);
      return latest && sampleOf(latest);
    },
    metricNames: async () => (await metricLines()).map(metricName),
    metricsSample: async (name: string) => metricsSampleOf(await metricLines(), name),
  };
}

export type CadvisorApi = ReturnType<typeof cadvisorApi>;

// One series of samples, asked for every `everyMs` from `seed` on. `finish(at)` asks at once, then every 50 ms, until
// the series holds a sample taken at or after `at`.
function collectCpu(
  fetchSample: (until: number) => Promise<CpuSample | undefined>,
  everyMs: number,
  signal: AbortSignal,
  seed: CpuSample[] = [],
) {
  const samples = [...seed];
  let until = Infinity;
  let wake = new AbortController();
  const done = (async () => {
    while (!signal.aborted && (samples.at(-1)?.at ?? 0) < until) {
      const tick = Date.now();
      const sample = await fetchSample(until).catch(() => undefined);
      if (sample && sample.at > (samples.at(-1)?.at ?? 0)) samples.push(sample);
      const wait = until === Infinity ? Math.max(0, everyMs - (Date.now() - tick)) : 50;
      await sleep(wait, undefined, { signal: AbortSignal.any([signal, wake.signal]) }).catch(() => undefined);
    }
  })();
  return {
    latest: () => samples.at(-1)?.at ?? 0,
    finish: async (at: number) => {
      until = at;
      wake.abort();
      wake = new AbortController();
      await done;
      return samples;
    },
  };
}

export interface CpuWindows {
  ownSamples: number;
  idleStart: number;
  loadStart: number;
  loadEnd: number;
  answered: number;
  failed: number;
  api: CpuSample[];
  metrics: CpuSample[];
}

// The load test: an idle window of `windowMs` from cAdvisor's first sample of `name`, then a load burst on `url` of the
// same length. /metrics, which only shows cAdvisor's latest sample, is read every `everyMs` from the start. The API's
// series asks for a fresh sample every `everyMs` (`max_age`: between bursts cAdvisor's own housekeeping interval grows
// to 15 s or more), but only once cAdvisor's housekeeping has sampled `name` twice on its own: from then on every
// sample is one the lab asked for. Only `ownSamples` when that did not happen within `seenWithinMs`.
export async function cpuWindows(
  api: CadvisorApi,
  name: string,
  { url, windowMs, everyMs, seenWithinMs }: { url: string; windowMs: number; everyMs: number; seenWithinMs: number },
  signal: AbortSignal,
): Promise<CpuWindows | Pick<CpuWindows, "ownSamples">> {
  let own: CpuSample[] = [];
  const ownAtLeast = (count: number) => async () => {
    own = await api.samples(name).catch(() => own);
    return own.length >= count || signal.aborted ? true : undefined;
  };
  const seenFor = { timeoutMs: seenWithinMs, intervalMs: 50 };
  if (!(await pollUntil(ownAtLeast(1), seenFor)) || signal.aborted) return { ownSamples: own.length };
  const metrics = collectCpu(() => api.metricsSample(name), everyMs, signal);
  await pollUntil(() => (metrics.latest() > 0 || signal.aborted ? true : undefined), seenFor);
  let idleStart = Date.now();
  if (!(await pollUntil(ownAtLeast(2), seenFor)) || signal.aborted) {
    await metrics.finish(0);
    return { ownSamples: own.length };
  }
  const ownSamples = own.length;
  const maxAge = (until: number) => (until === Infinity ? everyMs / 2 : Math.max(1, Date.now() - until));
  const fromApi = collectCpu((until) => api.freshSample(name, maxAge(until)), everyMs, signal, own);
  // Most of the idle window must fall where the API's series is dense: a late second sample starts the window again.
  if (Date.now() - idleStart > windowMs / 2) idleStart = Date.now();
  await sleep(Math.max(0, idleStart + windowMs - Date.now()), undefined, { signal });
  const loadStart = Date.now();
  const loadEnd = loadStart + windowMs;
  const { answered, failed } = await loadFor(url, windowMs, signal);
  await sleep(Math.max(0, loadEnd - Date.now()), undefined, { signal });
  const [apiSamples, metricsSamples] = await Promise.all([fromApi.finish(loadEnd), metrics.finish(loadEnd)]);
  return { ownSamples, idleStart, loadStart, loadEnd, answered, failed, api: apiSamples, metrics: metricsSamples };
}

// Cumulative CPU seconds at a moment, read between the two samples around it.
export function cpuAt(samples: CpuSample[], at: number): number {
  const after = samples.findIndex((sample) => sample.at >= at);
  const [previous, next] = [samples[after - 1], samples[after]];
  if (!next) return NaN;
  if (next.at === at || !previous) return next.at === at ? next.seconds : NaN;
  return previous.seconds + ((next.seconds - previous.seconds) * (at - previous.at)) / (next.at - previous.at);
}

export const cpuWithin = (samples: CpuSample[], from: number, to: number) => cpuAt(samples, to) - cpuAt(samples, from);

// From the last sample before `from` to the first after `to`, each as the CPU rate since the sample before it.
export function cpuSeries(samples: CpuSample[], from: number, to: number): Point[] {
  const first = Math.max(
    1,
    samples.findLastIndex((sample) => sample.at <= from),
  );
  const last = samples.findIndex((sample) => sample.at >= to);
  return samples.slice(first, last === -1 ? undefined : last + 1).map((sample, index) => {
    const previous = samples[first + index - 1]!;
    return {
      seconds: (sample.at - from) / 1000,
      value: ((sample.seconds - previous.seconds) / ((sample.at - previous.at) / 1000)) * 100,
    };
  });
}

// A few thousand requests cost nginx ~100x its idle CPU; more would only take cores from the labs running beside it.
const LOAD = { connections: 4, maxRequests: 5_000 };

// Requests that fail or stall are counted, not retried: the burst is bounded by LOAD.maxRequests and by `ms`.
export async function loadFor(
  url: string,
  ms: number,
  signal?: AbortSignal,
): Promise<{ answered: number; failed: number }> {
  const pool = new Pool(url, { connections: LOAD.connections, headersTimeout: 2_000, bodyTimeout: 2_000 });
  const deadline = Date.now() + ms;
  const counts = { sent: 0, answered: 0, failed: 0 };
  const worker = async () => {
    while (counts.sent < LOAD.maxRequests && Date.now() < deadline && !signal?.aborted) {
      counts.sent++;
      try {
        const response = await pool.request({ path: "/", method: "GET" });
        await response.body.dump();
        counts.answered++;
      } catch {
        counts.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: LOAD.connections }, worker));
  await pool.destroy();
  return { answered: counts.answered, failed: counts.failed };
}
