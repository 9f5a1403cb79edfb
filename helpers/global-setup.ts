import { spawn } from "node:child_process";
import { join } from "node:path";
import { getContainerRuntimeClient, ImageName } from "testcontainers";
import { request } from "undici";
import type { TestProject } from "vitest/node";
import { CATALOGUE } from "./catalogue.ts";
import { LOOPBACK } from "./containers.ts";
import { removeRun, sweepDeadRuns } from "./cleanup.ts";
import { probeEngine } from "./engine.ts";
import {
  describeImage,
  imageMapFrom,
  imageSourceFrom,
  labPlatform,
  planImages,
  registryHostOf,
  standInFacts,
  type Plan,
  type ResolvedImage,
} from "./images.ts";
import { assertBookPortsFree } from "./ports.ts";
import { labelsFor, newRunId, RUN_LABEL } from "./run.ts";

class SetupError extends Error {}

type Client = Awaited<ReturnType<typeof getContainerRuntimeClient>>;
type Docker = Client["container"]["dockerode"];

async function registryAnswers(host: string): Promise<boolean> {
  try {
    await request(`https://${host}/v2/`, { signal: AbortSignal.timeout(3_000) });
    return true;
  } catch {
    return false;
  }
}

async function answeringRegistries(): Promise<Set<string>> {
  const hosts = [...new Set(CATALOGUE.map(({ official }) => registryHostOf(official)))];
  const answers = await Promise.all(hosts.map(registryAnswers));
  return new Set(hosts.filter((_, index) => answers[index]));
}

async function resolve(client: Client, plan: Plan): Promise<ResolvedImage> {
  const docker = client.container.dockerode;
  const inspect = () => docker.getImage(plan.ref).inspect();
  let info = await inspect().catch(() => undefined);
  if (!info && plan.why === "stand-in") {
    throw new SetupError(
      `The stand-in ${plan.ref} for ${plan.official} is not built: run \`npm run images:build\` (or use LABS_IMAGES=official where a registry answers).`,
    );
  }
  if (!info) {
    console.log(`images: pulling ${plan.ref} ...`);
    try {
      await client.image.pull(ImageName.fromString(plan.ref));
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new SetupError(
        `Could not pull ${plan.ref} (for ${plan.official}): ${reason}. With no registry, use LABS_IMAGES=local and \`npm run images:build\`.`,
      );
    }
    info = await inspect();
  }
  return { official: plan.official, ref: plan.ref, id: info.Id, ...standInFacts(info.Config?.Labels ?? undefined) };
}

// Lab 3-1 runs mysql:5.7 as LABS_PLATFORM (the book's linux/amd64): one throwaway container proves the engine can.
async function assertPlatformRuns(docker: Docker, image: ResolvedImage, runId: string): Promise<void> {
  const platform = labPlatform();
  let container;
  try {
    container = await docker.createContainer({
      Image: image.ref,
      platform,
      Entrypoint: ["true"],
      Labels: labelsFor(runId),
    } as Parameters<Docker["createContainer"]>[0]);
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`a test container exited with ${StatusCode}`);
  } catch (error) {
    const reason = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message;
    throw new SetupError(
      `LABS_PLATFORM=${platform}: this engine cannot run ${image.ref} as ${platform} (${reason.trim()}). ` +
        "Enable emulation (Docker Desktop, or QEMU binfmt on Linux) or set LABS_PLATFORM to a platform the image has.",
    );
  } finally {
    await container?.remove({ force: true, v: true }).catch(() => undefined);
  }
}

// The book's `-p` publishes on every interface; every container of a run must publish on loopback only.
async function watchPublishedPorts(docker: Docker, runId: string, violations: string[]): Promise<() => void> {
  const filters = JSON.stringify({ type: ["container"], event: ["start"], label: [`${RUN_LABEL}=${runId}`] });
  const events = (await docker.getEvents({ filters })) as NodeJS.ReadableStream & { destroy(): void };
  events.on("data", async (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) {
      const { id } = JSON.parse(line) as { id: string };
      const info = await docker
        .getContainer(id)
        .inspect()
        .catch(() => undefined);
      for (const [port, bindings] of Object.entries(info?.NetworkSettings.Ports ?? {})) {
        for (const { HostIp, HostPort } of bindings ?? []) {
          if (HostIp !== LOOPBACK) violations.push(`${info!.Name.slice(1)} publishes ${port} on ${HostIp}:${HostPort}`);
        }
      }
    }
  });
  return () => events.destroy();
}

// An image's VOLUME gives its containers anonymous volumes, which carry no labels: one left dangling after this run
// started is a container removed without its volumes.
async function removeAnonymousVolumesSince(docker: Docker, since: number): Promise<string[]> {
  const { Volumes } = await docker.listVolumes({ filters: JSON.stringify({ dangling: ["true"] }) });
  const leaked = (Volumes ?? []).filter(
    (volume) =>
      Object.keys(volume.Labels ?? {}).length === 0 &&
      Date.parse((volume as { CreatedAt?: string }).CreatedAt ?? "") >= since - 1_000,
  );
  for (const volume of leaked)
    await docker
      .getVolume(volume.Name)
      .remove()
      .catch(() => undefined);
  return leaked.map(({ Name }) => `anonymous volume ${Name.slice(0, 12)}`);
}

function startGuardian(runId: string): void {
  const guardian = spawn(process.execPath, [join(import.meta.dirname, "guardian.ts"), runId], {
    detached: true,
    stdio: "ignore",
  });
  guardian.unref();
}

export default async function setup(project: TestProject) {
  let docker: Docker;
  const runId = newRunId();
  const startedAt = Date.now();
  const violations: string[] = [];
  let stopWatching = () => {};
  try {
    const engine = await probeEngine();
    await assertBookPortsFree();
    const source = imageSourceFrom();
    const map = imageMapFrom();
    labPlatform();
    const answering = source === "auto" ? await answeringRegistries() : new Set<string>();
    const plans = planImages(source, map, (host) => answering.has(host));
    if (!process.env.TESTCONTAINERS_RYUK_DISABLED && source !== "official" && !answering.has("registry-1.docker.io")) {
      process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
      console.log(
        "teardown: Ryuk's image cannot be pulled here; the suite's own guardian and audit remove what it starts",
      );
    }
    const client = await getContainerRuntimeClient();
    docker = client.container.dockerode;
    const swept = await sweepDeadRuns(docker);
    if (swept.length) console.log(`sweep: removed what ended runs left behind: ${swept.join("; ")}`);
    startGuardian(runId);
    const images = [];
    for (const plan of plans) images.push(await resolve(client, plan));
    await assertPlatformRuns(
      docker,
      images.find(({ official }) => official === "mysql:5.7")!,
      runId,
    );
    stopWatching = await watchPublishedPorts(docker, runId, violations);

    console.log(
      `engine: Docker ${engine.version} ${engine.os}/${engine.arch} at ${engine.endpoint}; ` +
        `images: LABS_IMAGES=${source}${map.size ? `, LABS_IMAGE_MAP maps ${map.size}` : ""}; run ${runId}`,
    );
    for (const image of images) console.log(`image: ${describeImage(image)}`);
    project.provide("runId", runId);
    project.provide("engine", engine);
    project.provide("images", images);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }

  return async () => {
    stopWatching();
    const leaks = [...(await removeRun(docker, runId)), ...(await removeAnonymousVolumesSince(docker, startedAt))];
    const problems = [
      ...(leaks.length ? [`the run left ${leaks.length} resource(s) behind (now removed): ${leaks.join("; ")}`] : []),
      ...(violations.length ? [`ports published beyond loopback: ${violations.join("; ")}`] : []),
    ];
    if (problems.length > 0) throw new Error(problems.join("\n"));
    console.log(`teardown: nothing of run ${runId} is left on the engine; every published port was on 127.0.0.1`);
  };
}
