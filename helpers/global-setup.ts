import { randomBytes } from "node:crypto";
import { getContainerRuntimeClient, ImageName } from "testcontainers";
import { request } from "undici";
import type { TestProject } from "vitest/node";
import { RUN_LABEL } from "./containers.ts";
import { probeEngine } from "./engine.ts";
import {
  describeImage,
  imageMapFrom,
  imageSourceFrom,
  planImages,
  registryHostOf,
  standInFacts,
  type Plan,
  type ResolvedImage,
} from "./images.ts";
import { CATALOGUE } from "./catalogue.ts";
import { assertBookPortsFree } from "./ports.ts";

class SetupError extends Error {}

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

type Client = Awaited<ReturnType<typeof getContainerRuntimeClient>>;

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

async function audit(client: Client, runId: string): Promise<string[]> {
  const docker = client.container.dockerode;
  const filters = JSON.stringify({ label: [`${RUN_LABEL}=${runId}`] });
  const leaks: string[] = [];
  for (const info of await docker.listContainers({ all: true, filters })) {
    leaks.push(`container ${info.Names[0]?.slice(1) ?? info.Id} (${info.Image}, ${info.State})`);
    await docker.getContainer(info.Id).remove({ force: true, v: true });
  }
  for (const info of await docker.listNetworks({ filters })) {
    leaks.push(`network ${info.Name}`);
    await docker.getNetwork(info.Id).remove();
  }
  for (const info of (await docker.listVolumes({ filters })).Volumes ?? []) {
    leaks.push(`volume ${info.Name}`);
    await docker.getVolume(info.Name).remove();
  }
  return leaks;
}

export default async function setup(project: TestProject) {
  let client: Client;
  const runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  try {
    const engine = await probeEngine();
    await assertBookPortsFree();
    const source = imageSourceFrom();
    const map = imageMapFrom();
    const answering = source === "auto" ? await answeringRegistries() : new Set<string>();
    const plans = planImages(source, map, (host) => answering.has(host));
    if (!process.env.TESTCONTAINERS_RYUK_DISABLED && source !== "official" && !answering.has("registry-1.docker.io")) {
      process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
      console.log(
        "teardown: Ryuk's image cannot be pulled here, so the suite's own cleanup and audit remove what it starts",
      );
    }
    client = await getContainerRuntimeClient();
    const images = [];
    for (const plan of plans) images.push(await resolve(client, plan));

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
    const leaks = await audit(client, runId);
    if (leaks.length > 0) {
      throw new Error(`The run left ${leaks.length} resource(s) behind (now removed): ${leaks.join("; ")}`);
    }
    console.log(`teardown: nothing of run ${runId} is left on the engine`);
  };
}
