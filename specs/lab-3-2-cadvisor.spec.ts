import { writeFile } from "node:fs/promises";
import { Wait, type StartedTestContainer } from "testcontainers";
import { Pool, request } from "undici";
import { describe, expect, test } from "vitest";
import { openBrowser } from "../helpers/lab/browser.ts";
import { httpAnswers, LabContainer, LOOPBACK, nameForRun } from "../helpers/lab/containers.ts";
import { dockerApi } from "../helpers/lab/engine.ts";
import { evidenceFile, lineChartSvg, type Point } from "../helpers/lab/evidence.ts";
import { labImage } from "../helpers/lab/images.ts";
import { publish } from "../helpers/lab/ports.ts";

const image = labImage("gcr.io/cadvisor/cadvisor:v0.46.0");
const workloadName = nameForRun("cadvisor-workload");
const LAB_MOUNTS = [
  { source: "/", target: "/rootfs", mode: "ro" },
  { source: "/var/run", target: "/var/run", mode: "rw" },
  { source: "/sys", target: "/sys", mode: "ro" },
  { source: "/var/lib/docker/", target: "/var/lib/docker", mode: "ro" },
] as const;
const BURST = { requests: 400, connections: 8, withinMs: 10_000 };

const lab = test
  .extend("cadvisor", { scope: "file" }, async ({}, { onCleanup }): Promise<StartedTestContainer> => {
    const cadvisor = await new LabContainer(image.ref)
      .withName(nameForRun("cadvisor"))
      .withBindMounts([...LAB_MOUNTS])
      .withExposedPorts(await publish(8080, 9559, "cAdvisor"))
      .withWaitStrategy(
        Wait.forHttp("/healthz", 8080)
          .forResponsePredicate((body) => body === "ok")
          .withReadTimeout(100),
      )
      .start();
    onCleanup(async () => {
      await cadvisor.stop();
    });
    return cadvisor;
  })
  .extend("workload", { scope: "file" }, async ({}, { onCleanup }): Promise<StartedTestContainer> => {
    const workload = await new LabContainer(labImage("nginx:1.18").ref)
      .withName(workloadName)
      .withExposedPorts(80)
      .withWaitStrategy(httpAnswers("/", 80))
      .start();
    onCleanup(async () => {
      await workload.stop();
    });
    return workload;
  });

const baseUrl = (cadvisor: StartedTestContainer) => `http://${cadvisor.getHost()}:${cadvisor.getMappedPort(8080)}`;

interface ContainerInfo {
  aliases: string[];
  stats: { timestamp: string; cpu: { usage: { total: number } } }[];
}

async function dockerContainers(cadvisor: StartedTestContainer): Promise<Record<string, ContainerInfo>> {
  const response = await request(`${baseUrl(cadvisor)}/api/v1.3/docker`);
  expect(response.headers["content-type"]).toMatch(/^application\/json/);
  return (await response.body.json()) as Record<string, ContainerInfo>;
}

async function cpuNanoseconds(cadvisor: StartedTestContainer, name: string): Promise<number | undefined> {
  const info = Object.values(await dockerContainers(cadvisor)).find(({ aliases }) => aliases.includes(name));
  return info?.stats.at(-1)?.cpu.usage.total;
}

async function cpuSeries(cadvisor: StartedTestContainer, name: string): Promise<Point[]> {
  const response = await request(`${baseUrl(cadvisor)}/api/v1.3/docker/${name}`);
  const [info] = Object.values((await response.body.json()) as Record<string, ContainerInfo>);
  const samples = (info?.stats ?? []).map(({ timestamp, cpu }) => ({
    at: Date.parse(timestamp),
    total: cpu.usage.total,
  }));
  return samples.slice(1).map((sample, index) => {
    const previous = samples[index]!;
    const cores = (sample.total - previous.total) / ((sample.at - previous.at) * 1e6);
    return { seconds: (sample.at - samples[0]!.at) / 1000, value: cores * 100 };
  });
}

async function metricsCpuSeconds(cadvisor: StartedTestContainer, name: string): Promise<number | undefined> {
  const text = await (await request(`${baseUrl(cadvisor)}/metrics`)).body.text();
  const samples = text
    .split("\n")
    .filter((line) => line.startsWith("container_cpu_usage_seconds_total{") && line.includes(`name="${name}"`))
    .map((line) => Number(line.split("} ")[1]?.split(" ")[0]));
  return samples.length ? samples.reduce((sum, value) => sum + value, 0) : undefined;
}

async function requestBurst(url: string): Promise<number> {
  const pool = new Pool(url, { connections: BURST.connections });
  const signal = AbortSignal.timeout(BURST.withinMs);
  let sent = 0;
  let answered = 0;
  const worker = async () => {
    while (sent < BURST.requests && !signal.aborted) {
      sent++;
      const response = await pool.request({ path: "/", method: "GET", signal });
      await response.body.dump();
      answered++;
    }
  };
  await Promise.all(Array.from({ length: BURST.connections }, worker)).finally(() => pool.close());
  return answered;
}

function skipWithoutWebUi(skip: (note: string) => never): void {
  if (image.lacks.includes("web-ui")) skip(`not applicable to ${image.ref}: no web UI (labs.stand-in.lacks=web-ui)`);
}

describe("Lab 3-2: cAdvisor", { timeout: 120_000 }, () => {
  lab(
    "docker run --volume=/:/rootfs:ro --volume=/var/run:/var/run:rw --volume=/sys:/sys:ro --volume=/var/lib/docker/:/var/lib/docker:ro --publish=9559:8080 --detach=true --name=cadvisor gcr.io/cadvisor/cadvisor:v0.46.0",
    async ({ cadvisor, annotate }) => {
      const info = await (await dockerApi()).getContainer(cadvisor.getId()).inspect();
      const mounts = info.Mounts.map(({ Source, Destination, RW }) => ({ Source, Destination, RW }));
      expect(mounts).toEqual(
        expect.arrayContaining(
          LAB_MOUNTS.map(({ source, target, mode }) => ({
            Source: source.replace(/(.)\/$/, "$1"),
            Destination: target,
            RW: mode === "rw",
          })),
        ),
      );
      expect(mounts).toHaveLength(LAB_MOUNTS.length);
      expect(info.NetworkSettings.Ports["8080/tcp"]?.[0]?.HostIp).toBe(LOOPBACK);
      const health = await request(`${baseUrl(cadvisor)}/healthz`);
      expect(await health.body.text()).toBe("ok");
      await annotate(
        `mounts ${mounts.map(({ Source, Destination, RW }) => `${Source}:${Destination}:${RW ? "rw" : "ro"}`).join(" ")}; ` +
          `/healthz ok on ${LOOPBACK}:${cadvisor.getMappedPort(8080)}`,
      );
    },
  );

  lab("open http://localhost:9559/ (redirects to /containers/, then /docker)", async ({ cadvisor, skip }) => {
    skipWithoutWebUi(skip);
    const root = await request(`${baseUrl(cadvisor)}/`);
    await root.body.dump();
    expect(root.statusCode).toBeGreaterThanOrEqual(300);
    expect(root.headers.location).toBe("/containers/");
    const dockerPage = await request(`${baseUrl(cadvisor)}/docker/`);
    expect(dockerPage.headers["content-type"]).toMatch(/^text\/html/);
    expect(await dockerPage.body.text()).toContain(nameForRun("cadvisor"));
  });

  lab(
    "docker run -d --name workload nginx:1.18, then find it in /api/v1.3/docker and /metrics",
    async ({ cadvisor, workload, annotate }) => {
      await expect
        .poll(() => cpuNanoseconds(cadvisor, workloadName), { timeout: 30_000, interval: 500 })
        .toBeGreaterThan(0);
      await expect
        .poll(() => metricsCpuSeconds(cadvisor, workloadName), { timeout: 30_000, interval: 500 })
        .toBeGreaterThan(0);

      const before = (await cpuNanoseconds(cadvisor, workloadName))!;
      const answered = await requestBurst(`http://${workload.getHost()}:${workload.getMappedPort(80)}`);
      expect(answered).toBeGreaterThan(0);
      await expect
        .poll(() => cpuNanoseconds(cadvisor, workloadName), { timeout: 30_000, interval: 500 })
        .toBeGreaterThan(before);
      const after = (await cpuNanoseconds(cadvisor, workloadName))!;
      const metric = (await metricsCpuSeconds(cadvisor, workloadName))!;
      await annotate(
        `${workloadName} CPU ${(before / 1e6).toFixed(1)} ms -> ${(after / 1e6).toFixed(1)} ms after ${answered} requests; ` +
          `/metrics container_cpu_usage_seconds_total{name="${workloadName}"} = ${metric.toFixed(3)} s`,
      );
      const series = await cpuSeries(cadvisor, workloadName);
      expect(series.length).toBeGreaterThan(0);
      const chart = await evidenceFile("lab-3-2-cadvisor-workload-cpu.svg");
      await writeFile(chart, lineChartSvg(`CPU of ${workloadName} as cAdvisor saw it`, "% of one core", series));
      await annotate(`CPU peak ${Math.max(...series.map(({ value }) => value)).toFixed(1)}% of one core`);
      await annotate(chart, "evidence");
    },
  );

  lab("open the workload's page in a browser (/docker/<name>)", async ({ cadvisor, workload, skip, annotate }) => {
    skipWithoutWebUi(skip);
    expect(workload.getName()).toContain(workloadName);
    await using browser = await openBrowser(skip);
    const page = await browser.newPage();
    await page.goto(`${baseUrl(cadvisor)}/`);
    await page.waitForURL(/\/containers\/$/);
    await page.getByRole("link", { name: /docker containers/i }).click();
    await page.waitForURL(/\/docker\/?$/);
    await page.getByRole("link", { name: new RegExp(workloadName) }).click();
    await expect.poll(() => page.getByText(/CPU/).first().isVisible()).toBe(true);
    await expect
      .poll(() =>
        page
          .getByText(/Total Usage/i)
          .first()
          .isVisible(),
      )
      .toBe(true);
    const screenshot = await evidenceFile("lab-3-2-cadvisor-workload.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    await annotate(screenshot, "evidence");
  });
});
