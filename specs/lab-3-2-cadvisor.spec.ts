import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { posix, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Wait, type StartedTestContainer } from "testcontainers";
import { request } from "undici";
import { beforeAll, describe, expect, test, type TestContext } from "vitest";
import { notApplicableOn, notApplicableWithout } from "../helpers/lab/applicability.ts";
import { openBrowser } from "../helpers/lab/browser.ts";
import { cadvisorApi, cpuSeries, cpuWindows, cpuWithin, type CpuWindows } from "../helpers/lab/cadvisor.ts";
import { fileOnEngineHost, httpAnswers, LabContainer, nameForRun } from "../helpers/lab/containers.ts";
import { apiLevel, dockerApi, labEngine } from "../helpers/lab/engine.ts";
import { evidenceFile, lineChartSvg } from "../helpers/lab/evidence.ts";
import { labImage } from "../helpers/lab/images.ts";
import { publish } from "../helpers/lab/ports.ts";
import { startEarly } from "../helpers/lab/start-early.ts";

// What the load test measures: CPU used in an idle window, then in a load burst of the same length right after it.
const IDLE_WINDOW_MS = 5_000;
const LOAD_WINDOW_MS = IDLE_WINDOW_MS;
const MIN_CHART_SAMPLES = 10;
const SAMPLE_EVERY_MS = 500;
const SEEN_WITHIN_MS = 30_000;

const image = labImage("gcr.io/cadvisor/cadvisor:v0.46.0");
const engine = labEngine();
const cadvisorName = nameForRun("cadvisor");
const workloadName = nameForRun("cadvisor-workload");

// The book's paths are a default Docker's; cAdvisor reads the engine it runs on, wherever that keeps its socket and data.
// The socket is mounted as the engine sees it, not as the runner reaches it: a Mac's ~/.docker/run/docker.sock
// cannot be mounted into Docker Desktop's VM (docker/for-mac#6545), which serves /var/run/docker.sock itself. A
// Windows runner spells that //var/run/docker.sock, as testcontainers mounts it into Ryuk.
const BOOK_SOCKET = "/var/run/docker.sock";
const socket = posix.normalize(engine.socketPath);
const LAB_MOUNTS = [
  { source: "/", target: "/rootfs", mode: "ro" as const },
  { source: posix.dirname(engine.socketPath), target: posix.dirname(socket), mode: "rw" as const },
  { source: "/sys", target: "/sys", mode: "ro" as const },
  { source: engine.dataRoot, target: engine.dataRoot, mode: "ro" as const },
];
const CADVISOR_ARGS = socket === BOOK_SOCKET ? [] : [`--docker=unix://${socket}`];

// Docker API 1.44 is the oldest that Docker 29.0–29.2 accept; cAdvisor v0.46 speaks 1.41.
const CADVISOR_API = "1.41";
const engineRefusesCadvisor = apiLevel(engine.minApiVersion) > apiLevel(CADVISOR_API);
// cAdvisor finds Docker's containers by their cgroups; a rootless engine with cgroup driver "none" gives them none.
const cgroupsWarning = engine.warnings.find((warning) => /rootless-mode without cgroups/.test(warning));

// Where cAdvisor v0.46 cannot see the engine's containers: each with the fact and the reason a step reports.
const blindness = [
  {
    when: engine.imageStore === "containerd",
    fact: `image store containerd (driver ${engine.driver})`,
    why: "cAdvisor v0.46 cannot find a container's read-write layer there (google/cadvisor#3643: failed to identify the read-write layer ID … mount-id: no such file or directory)",
  },
  {
    when: engine.product === "Podman",
    fact: `Podman ${engine.version}`,
    why: "cAdvisor reads Podman's containers only from v0.48 (google/cadvisor#3021, for #2424); v0.46 and Debian's 0.38 have no Podman support",
  },
  {
    when: engineRefusesCadvisor,
    fact: `minimum API version ${engine.minApiVersion}`,
    why: `cAdvisor v0.46 speaks Docker API ${CADVISOR_API}, which this engine refuses`,
  },
  {
    when: engine.rootless && engine.cgroupDriver === "none",
    fact:
      `rootless mode with cgroup driver none on cgroup v${engine.cgroupVersion}` +
      (cgroupsWarning ? ` ("${cgroupsWarning.replace(/^WARNING: /, "")}")` : ""),
    why:
      "its containers get no cgroup of their own, and cAdvisor v0.46 knows containers only by their cgroups, so it " +
      `never lists the workload (Docker's rootless docs, "Limiting resources": with cgroup driver none rootless mode ` +
      "runs without cgroups; moby daemon/info_unix.go)",
  },
];
const cadvisorSeesContainers = !blindness.some(({ when }) => when);

function notApplicableWhereCadvisorCannotSeeContainers(skip: TestContext["skip"]) {
  for (const { when, fact, why } of blindness) notApplicableOn(skip, when, fact, why);
}

const baseUrl = (cadvisor: StartedTestContainer) => `http://${cadvisor.getHost()}:${cadvisor.getMappedPort(8080)}`;
const apiOf = (cadvisor: StartedTestContainer) => cadvisorApi(baseUrl(cadvisor));

const lab = test
  .extend("cadvisorStart", { scope: "file", auto: true }, async ({}, hooks) => {
    const cadvisor = new LabContainer(image.ref)
      .withName(cadvisorName)
      .withBindMounts(LAB_MOUNTS)
      .withExposedPorts(await publish(8080, 9559, "cAdvisor"))
      .withWaitStrategy(
        Wait.forHttp("/healthz", 8080)
          .forResponsePredicate((body) => body === "ok")
          .withReadTimeout(100),
      );
    return startEarly(CADVISOR_ARGS.length ? cadvisor.withCommand(CADVISOR_ARGS) : cadvisor, hooks);
  })
  .extend("workloadStart", { scope: "file", auto: true }, async ({}, hooks) =>
    startEarly(
      new LabContainer(labImage("nginx:1.18").ref)
        .withName(workloadName)
        .withExposedPorts(80)
        .withWaitStrategy(httpAnswers("/", 80)),
      hooks,
    ),
  )
  .extend("cadvisor", { scope: "file" }, ({ cadvisorStart }) => cadvisorStart.started)
  .extend("hostFile", { scope: "file" }, async ({}, { onCleanup }) => {
    const file = await fileOnEngineHost(image.ref, `written by run ${randomBytes(8).toString("hex")}\n`);
    onCleanup(() => file[Symbol.asyncDispose]());
    return file;
  })
  // The load test's windows begin as soon as cAdvisor samples the workload, while the first steps run.
  .extend("windows", { scope: "file", auto: true }, async ({ cadvisorStart, workloadStart }, { onCleanup }) => {
    const stopping = new AbortController();
    const measured = (async () => {
      if (!cadvisorSeesContainers) return undefined;
      const [cadvisor, workload] = await Promise.all([cadvisorStart.started, workloadStart.started]);
      const url = `http://${workload.getHost()}:${workload.getMappedPort(80)}`;
      const plan = { url, windowMs: IDLE_WINDOW_MS, everyMs: SAMPLE_EVERY_MS, seenWithinMs: SEEN_WITHIN_MS };
      return cpuWindows(apiOf(cadvisor), workloadName, plan, stopping.signal);
    })();
    measured.catch(() => undefined);
    onCleanup(async () => {
      stopping.abort();
      await measured.catch(() => undefined);
    });
    return { measured };
  })
  // For a step that may be not applicable: it decides that first, from facts, and only then waits for the containers.
  .extend("started", { scope: "file" }, ({ cadvisorStart, workloadStart }) => {
    const both = () => Promise.all([cadvisorStart.started, workloadStart.started]);
    return both;
  });

function notApplicableWithoutWebUi(skip: TestContext["skip"]) {
  notApplicableWithout(
    skip,
    image,
    "web-ui",
    `Debian's cAdvisor package strips the web UI ("/" answers "cadvisor from Debian package doesn't support Web UI")`,
  );
}

const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;

describe("Lab 3-2: cAdvisor", { timeout: 120_000 }, () => {
  beforeAll(() => {
    if (engineRefusesCadvisor)
      console.log(
        `Lab 3-2: cAdvisor v0.46 speaks Docker API ${CADVISOR_API} and this engine accepts ${engine.minApiVersion} at the least: ` +
          "cAdvisor cannot talk to it, so its container steps are not applicable here",
      );
  });

  lab(
    "docker run --volume=/:/rootfs:ro --volume=/var/run:/var/run:rw --volume=/sys:/sys:ro --volume=/var/lib/docker/:/var/lib/docker:ro --publish=9559:8080 --detach=true --name=cadvisor gcr.io/cadvisor/cadvisor:v0.46.0",
    async ({ cadvisor, hostFile, annotate, task }) => {
      const docker = await dockerApi();
      const info = await docker.getContainer(cadvisor.getId()).inspect();
      const order = (target: string) => LAB_MOUNTS.findIndex((mount) => mount.target === target);
      const mounts = info.Mounts.map(({ Source, Destination, RW }) => ({ Source, Destination, RW })).sort(
        (one, other) => order(one.Destination) - order(other.Destination),
      );
      const published = info.NetworkSettings.Ports["8080/tcp"]?.[0];
      const run = [
        "docker run",
        ...mounts.map(({ Source, Destination, RW }) => `--volume=${Source}:${Destination}:${RW ? "rw" : "ro"}`),
        `--publish=${published?.HostIp}:${published?.HostPort}:8080 --detach=true --name=${info.Name.slice(1)}`,
        info.Config.Image,
        ...(info.Config.Cmd ?? []),
      ];
      await annotate(`book: ${task.name}`);
      await annotate(`run (${engine.endpoint}, data root ${engine.dataRoot}): ${run.join(" ")}`);
      expect(mounts).toEqual(
        LAB_MOUNTS.map(({ source, target, mode }) => ({ Source: source, Destination: target, RW: mode === "rw" })),
      );
      expect(info.Config.Cmd ?? []).toEqual(CADVISOR_ARGS);
      expect(published?.HostIp).toBe(engine.publishAddress);
      const health = await request(`${baseUrl(cadvisor)}/healthz`);
      expect(await health.body.text()).toBe("ok");

      // The engine's host as cAdvisor sees it: a file the run put there, read through /rootfs and through the data
      // root's own mount. Neither mount takes a write: tried beside that file on the data root, and at the top of the
      // host's root filesystem (not beside the file through /rootfs: a plain `ro` bind leaves the mounts under it
      // writable, and the data root is often one of them).
      expect(hostFile.path.startsWith(`${engine.dataRoot}/`), `${hostFile.path} lies in the data root`).toBe(true);
      for (const seenAs of [`/rootfs${hostFile.path}`, hostFile.path]) {
        expect(await cadvisor.exec(["cat", seenAs]), `${seenAs} in cAdvisor`).toMatchObject({
          exitCode: 0,
          stdout: hostFile.content,
        });
      }
      for (const target of [
        `${posix.dirname(hostFile.path)}/written-by-cadvisor`,
        `/rootfs/.${nameForRun("written-by-cadvisor")}`,
      ]) {
        const written = await cadvisor.exec(["touch", target]);
        if (written.exitCode === 0) await cadvisor.exec(["rm", "-f", target]);
        expect(written.exitCode, `touch ${target} in cAdvisor`).not.toBe(0);
        expect(written.output).toMatch(/Read-only file system/);
      }
      const hostMachineId = (await cadvisor.exec(["cat", "/rootfs/etc/machine-id"])).stdout.trim();
      const [machine, engineInfo] = await Promise.all([apiOf(cadvisor).machine(), docker.info()]);
      expect(machine.num_cores, "/api/v1.3/machine num_cores, as docker info's NCPU").toBe(engineInfo.NCPU);
      expect(machine.memory_capacity, "/api/v1.3/machine memory_capacity, as docker info's MemTotal").toBe(
        engineInfo.MemTotal,
      );
      expect(machine.machine_id, "/api/v1.3/machine machine_id, as the host's /etc/machine-id").toBe(hostMachineId);
      await annotate(
        `/healthz ok on ${engine.publishAddress}:${cadvisor.getMappedPort(8080)}; the run's ${hostFile.path} read in ` +
          `cAdvisor through /rootfs and the data root, neither writable; /api/v1.3/machine: ${machine.num_cores} cores, ` +
          `${machine.memory_capacity} bytes (docker info: NCPU ${engineInfo.NCPU}, MemTotal ${engineInfo.MemTotal}), ` +
          `machine_id ${machine.machine_id || "(none)"} as the host's /etc/machine-id`,
      );
    },
  );

  lab("open http://localhost:9559/ (redirects to /containers/, then /docker)", async ({ started, skip }) => {
    notApplicableWithoutWebUi(skip);
    notApplicableWhereCadvisorCannotSeeContainers(skip);
    const [cadvisor, workload] = await started();
    const root = await request(`${baseUrl(cadvisor)}/`);
    await root.body.dump();
    expect(root.statusCode).toBe(307);
    expect(root.headers.location).toBe("/containers/");
    const containersPage = await request(`${baseUrl(cadvisor)}/containers/`);
    expect(containersPage.headers["content-type"]).toMatch(/^text\/html/);
    expect(await containersPage.body.text()).toContain("Docker Containers");
    const running = [cadvisor, workload].map((container) => container.getName().replace(/^\//, ""));
    await expect
      .poll(async () => (await request(`${baseUrl(cadvisor)}/docker/`)).body.text(), { timeout: SEEN_WITHIN_MS })
      .toSatisfy((page: string) => running.every((name) => page.includes(name)));
  });

  lab(
    "docker run -d --name workload nginx:1.18, then find it in /api/v1.3/docker and /metrics",
    async ({ started, windows, annotate, skip, onTestFinished }) => {
      notApplicableWhereCadvisorCannotSeeContainers(skip);
      const [cadvisor] = await started();
      // The browser and the page that render the chart open while the windows run, which is spent waiting anyway.
      const browser = openBrowser(skip);
      const opened = browser.catch(() => undefined);
      onTestFinished(async () => (await opened)?.close());
      const chartPage = browser.then((chromium) => chromium.newPage());
      chartPage.catch(() => undefined);
      const api = apiOf(cadvisor);
      const polling = { timeout: SEEN_WITHIN_MS, interval: 100 };
      await expect
        .poll(async () => (await api.containers()).flatMap(({ aliases }) => aliases), polling)
        .toContain(workloadName);
      await expect.poll(() => api.metricNames(), polling).toContain(workloadName);
      await expect.poll(async () => (await api.samples(workloadName)).at(-1)?.seconds ?? 0, polling).toBeGreaterThan(0);
      await expect.poll(async () => (await api.metricsSample(workloadName))?.seconds ?? 0, polling).toBeGreaterThan(0);
      const measured = await windows.measured;
      expect(measured?.ownSamples, "samples cAdvisor's own housekeeping took of the workload").toBeGreaterThanOrEqual(
        2,
      );
      const { ownSamples, idleStart, loadStart, loadEnd, answered, failed, ...sampled } = measured as CpuWindows;
      const [fromApi, fromMetrics] = [sampled.api, sampled.metrics];
      expect(fromApi.at(-1)?.at, "the last sample asked of /api/v2.0/stats").toBeGreaterThanOrEqual(loadEnd);

      const inApi = { idle: cpuWithin(fromApi, idleStart, loadStart), load: cpuWithin(fromApi, loadStart, loadEnd) };
      const prometheus = {
        idle: cpuWithin(fromMetrics, idleStart, loadStart),
        load: cpuWithin(fromMetrics, loadStart, loadEnd),
      };
      await annotate(
        `${workloadName}: sampled ${ownSamples} times by cAdvisor's own housekeeping, then every ${SAMPLE_EVERY_MS} ms; ` +
          `CPU in /api/v2.0/stats: ${ms(inApi.idle)} idle, ${ms(inApi.load)} under load (${answered} requests answered, ${failed} failed); ` +
          `in /metrics container_cpu_usage_seconds_total: ${ms(prometheus.idle)} idle, ${ms(prometheus.load)} under load ` +
          `(windows of ${IDLE_WINDOW_MS / 1000} s each)`,
      );
      expect(answered).toBeGreaterThan(0);
      expect(inApi.load).toBeGreaterThan(inApi.idle);
      expect(prometheus.load).toBeGreaterThan(prometheus.idle);

      const series = cpuSeries(fromApi, idleStart, loadEnd);
      const chart = await evidenceFile("lab-3-2-cadvisor-workload-cpu.svg");
      await writeFile(
        chart,
        lineChartSvg(
          `CPU of ${workloadName} as cAdvisor saw it (/api/v2.0/stats, ${series.length} samples)`,
          { x: "seconds since the idle window began", y: "% of one core" },
          series,
          [
            { from: 0, to: IDLE_WINDOW_MS / 1000, label: "idle" },
            { from: IDLE_WINDOW_MS / 1000, to: (IDLE_WINDOW_MS + LOAD_WINDOW_MS) / 1000, label: "load" },
          ],
        ),
      );
      await annotate(chart, "evidence", { path: chart, contentType: "image/svg+xml" });
      await annotate(
        `chart: ${series.length} samples, peak ${Math.max(...series.map(({ value }) => value)).toFixed(1)}% of one core`,
      );
      expect(series.length).toBeGreaterThanOrEqual(MIN_CHART_SAMPLES);

      const page = await chartPage;
      await page.goto(pathToFileURL(resolve(chart)).href);
      const png = chart.replace(/\.svg$/, ".png");
      // The chart is static and is the whole document: a clip of the page at its box skips what an element
      // screenshot waits for (a locator's injected script, the element settling), ~0.15 s on the run's critical path.
      const drawn = await page.evaluate(() => {
        const { width, height } = document.documentElement.getBoundingClientRect();
        return { localName: document.documentElement.localName, width, height };
      });
      expect(drawn, "the chart as the browser drew it").toMatchObject({ localName: "svg" });
      await page.screenshot({ path: png, clip: { x: 0, y: 0, width: drawn.width, height: drawn.height } });
      await annotate(png, "evidence", { path: png, contentType: "image/png" });
    },
  );

  lab("open the workload's page in a browser (/docker/<name>)", async ({ started, skip, annotate }) => {
    notApplicableWithoutWebUi(skip);
    notApplicableWhereCadvisorCannotSeeContainers(skip);
    const [cadvisor] = await started();
    const drawn = { timeout: SEEN_WITHIN_MS };
    await using browser = await openBrowser(skip);
    const page = await browser.newPage();
    await page.goto(`${baseUrl(cadvisor)}/`);
    await page.waitForURL(/\/containers\/$/);
    await page.getByRole("link", { name: "Docker Containers" }).click();
    await page.waitForURL(/\/docker\/?$/);
    await page.getByRole("link", { name: new RegExp(workloadName) }).click();
    await page.waitForURL(/\/docker\/[^/]+$/);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain(workloadName);
    const cpuPanel = page.locator(".panel").filter({ has: page.getByRole("heading", { name: "CPU", exact: true }) });
    await expect.poll(() => cpuPanel.getByRole("heading", { name: "Total Usage" }).isVisible(), drawn).toBe(true);
    // The Overview gauges are drawn by script once the stats have loaded: a "CPU" label and its figure in percent.
    const cpuGauge = page.locator("#usage-gauge svg").filter({ has: page.locator("text", { hasText: /^CPU$/ }) });
    await expect
      .poll(
        async () => (await cpuGauge.locator("text").allTextContents()).find((text) => /^\d+(\.\d+)?$/.test(text)),
        drawn,
      )
      .toMatch(/^\d+(\.\d+)?$/);
    const figure = (await cpuGauge.locator("text").allTextContents()).find((text) => /^\d+(\.\d+)?$/.test(text));
    const screenshot = await evidenceFile("lab-3-2-cadvisor-workload.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    await annotate(`${page.url()}: CPU ${figure}%`);
    await annotate(screenshot, "evidence", { path: screenshot, contentType: "image/png" });
  });
});
