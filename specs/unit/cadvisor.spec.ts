import { describe, expect, it } from "vitest";
import {
  cpuAt,
  cpuMetricLines,
  cpuSeries,
  cpuWithin,
  metricName,
  metricsSampleOf,
} from "../../helpers/lab/cadvisor.ts";

// Shaped as Debian's cAdvisor 0.38.7 writes it (one line per CPU, cAdvisor's timestamp in milliseconds, the machine's
// own cgroups with an empty name; its container_label_* labels left out) and as v0.46 does (one line in total).
const METRICS = [
  "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.",
  "# TYPE container_cpu_usage_seconds_total counter",
  'container_cpu_usage_seconds_total{cpu="cpu00",id="/",image="",name=""} 2555.722310224 1796286606167',
  'container_cpu_usage_seconds_total{cpu="cpu00",id="/docker/ab12",image="labs-stand-in/nginx:1.18",name="workload-r1"} 0.25 1796286606100',
  'container_cpu_usage_seconds_total{cpu="cpu01",id="/docker/ab12",image="labs-stand-in/nginx:1.18",name="workload-r1"} 0.5 1796286606200',
  'container_cpu_usage_seconds_total{cpu="total",id="/docker/cd34",image="gcr.io/cadvisor/cadvisor:v0.46.0",name="cadvisor-r1"} 1.5 1796286606300',
  'container_memory_usage_bytes{id="/docker/ab12",image="labs-stand-in/nginx:1.18",name="workload-r1"} 4.2e+06 1796286606100',
].join("\n");

const samples = [
  { at: 1_000, seconds: 1 },
  { at: 2_000, seconds: 1.5 },
  { at: 4_000, seconds: 3.5 },
];

describe("cAdvisor's /metrics", () => {
  it("keeps only the container CPU series", () => {
    expect(cpuMetricLines(METRICS)).toHaveLength(4);
  });

  it("names each line's container, and the machine's own cgroups with an empty name", () => {
    expect(cpuMetricLines(METRICS).map(metricName)).toEqual(["", "workload-r1", "workload-r1", "cadvisor-r1"]);
  });

  it("sums a container's lines, stamped with the latest of their timestamps", () => {
    expect(metricsSampleOf(cpuMetricLines(METRICS), "workload-r1")).toEqual({ at: 1796286606200, seconds: 0.75 });
  });

  it("stamps a line without a timestamp with the time it was read", () => {
    const lines = ['container_cpu_usage_seconds_total{cpu="total",name="w"} 2'];
    expect(metricsSampleOf(lines, "w", 42)).toEqual({ at: 42, seconds: 2 });
  });

  it("matches the name exactly, not a name that contains it", () => {
    expect(metricsSampleOf(cpuMetricLines(METRICS), "workload")).toBeUndefined();
  });
});

describe("CPU between samples", () => {
  it("reads a sample's own moment exactly", () => {
    expect(cpuAt(samples, 2_000)).toBe(1.5);
    expect(cpuAt(samples, 1_000)).toBe(1);
  });

  it("interpolates between the two samples around a moment", () => {
    expect(cpuAt(samples, 3_000)).toBe(2.5);
  });

  it("knows nothing before the first sample or after the last", () => {
    expect(cpuAt(samples, 500)).toBeNaN();
    expect(cpuAt(samples, 4_001)).toBeNaN();
  });

  it("takes a window's CPU as the difference of its ends", () => {
    expect(cpuWithin(samples, 1_500, 3_000)).toBe(1.25);
  });

  it("charts the rate since the sample before, from the last sample before the window to the first after it", () => {
    expect(cpuSeries(samples, 2_000, 3_000)).toEqual([
      { seconds: 0, value: 50 },
      { seconds: 2, value: 100 },
    ]);
  });

  it("charts from the second sample when the window starts before the first", () => {
    expect(cpuSeries(samples, 0, 10_000)).toEqual([
      { seconds: 2, value: 50 },
      { seconds: 4, value: 100 },
    ]);
  });
});
