import { setTimeout as sleep } from "node:timers/promises";
import { Pool, request } from "undici";
import { expect } from "vitest";
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
    // `max_age` has cAdvisor take a fresh sample when its last is older: between load bursts its own housekeeping
    // interval grows to 15 s or more (dynamic housekeeping), too sparse to compare windows of a few seconds.
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

// Both series sampled every `everyMs`, each on its own: /metrics only ever shows the latest sample, and a slow
// /metrics (it lists every container on the engine) must not thin out the API's series.
export function sampleCpu(api: CadvisorApi, name: string, everyMs: number) {
  const controller = new AbortController();
  const collect = (fetchSample: () => Promise<CpuSample | undefined>) => {
    const samples: CpuSample[] = [];
    const done = (async () => {
      while (!controller.signal.aborted) {
        const tick = Date.now();
        const sample = await fetchSample().catch(() => undefined);
        if (sample && sample.at !== samples.at(-1)?.at) samples.push(sample);
        const wait = Math.max(0, everyMs - (Date.now() - tick));
        await sleep(wait, undefined, { signal: controller.signal }).catch(() => undefined);
      }
    })();
    return { samples, done };
  };
  const fromApi = collect(() => api.freshSample(name, everyMs / 2));
  const fromMetrics = collect(() => api.metricsSample(name));
  return {
    latest: () => Math.min(fromApi.samples.at(-1)?.at ?? 0, fromMetrics.samples.at(-1)?.at ?? 0),
    stop: async () => {
      controller.abort();
      await Promise.all([fromApi.done, fromMetrics.done]);
      return { api: fromApi.samples, metrics: fromMetrics.samples };
    },
  };
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
export async function loadFor(url: string, ms: number): Promise<{ answered: number; failed: number }> {
  const pool = new Pool(url, { connections: LOAD.connections, headersTimeout: 2_000, bodyTimeout: 2_000 });
  const deadline = Date.now() + ms;
  const counts = { sent: 0, answered: 0, failed: 0 };
  const worker = async () => {
    while (counts.sent < LOAD.maxRequests && Date.now() < deadline) {
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
