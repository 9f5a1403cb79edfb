import { request } from "undici";
import type { Docker } from "../engine/client.ts";
import { followProgress } from "../engine/progress.ts";
import { labelsFor } from "../run/identity.ts";
import { CATALOGUE, type StandIn } from "./entries.ts";
import { registryHostOf, standInFacts, type Plan, type ResolvedImage } from "./plan.ts";

export class SetupError extends Error {}

async function registryAnswers(host: string): Promise<boolean> {
  try {
    await request(`https://${host}/v2/`, { signal: AbortSignal.timeout(3_000) });
    return true;
  } catch {
    return false;
  }
}

export async function answeringRegistries(entries: readonly StandIn[] = CATALOGUE): Promise<Set<string>> {
  const hosts = [...new Set(entries.map(({ official }) => registryHostOf(official)))];
  const answers = await Promise.all(hosts.map(registryAnswers));
  return new Set(hosts.filter((_, index) => answers[index]));
}

function firstLine(error: unknown): string {
  const message = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message ?? String(error);
  return message.split("\n")[0]!.trim();
}

// Each image is pulled for the platform it will run as: mysql:5.7 exists for linux/amd64 only, so an arm64 engine
// asked for it without a platform finds nothing.
export async function resolveImage(docker: Docker, plan: Plan, platform?: string): Promise<ResolvedImage> {
  const inspect = () => docker.getImage(plan.ref).inspect();
  let info = await inspect().catch(() => undefined);
  if (!info && plan.why === "stand-in") {
    throw new SetupError(
      `The stand-in ${plan.ref} for ${plan.official} is not built: run \`npm run images:build\` (or use LABS_IMAGES=official where a registry answers).`,
    );
  }
  if (!info) {
    console.log(`images: pulling ${plan.ref}${platform ? ` for ${platform}` : ""} ...`);
    try {
      await followProgress(docker, await docker.pull(plan.ref, platform ? { platform } : {}));
      info = await inspect();
    } catch (error) {
      throw new SetupError(
        `Could not pull ${plan.ref} (for ${plan.official}) from ${registryHostOf(plan.ref)}: ${firstLine(error)}. ` +
          "With no registry, use LABS_IMAGES=local and `npm run images:build`.",
      );
    }
  }
  return { official: plan.official, ref: plan.ref, id: info.Id, ...standInFacts(info.Config?.Labels ?? undefined) };
}

// Lab 3-1 runs mysql:5.7 as LABS_PLATFORM (the book's linux/amd64): one throwaway container proves the engine can.
export async function assertPlatformRuns(
  docker: Docker,
  image: ResolvedImage,
  platform: string,
  runId: string,
): Promise<void> {
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
    throw new SetupError(
      `LABS_PLATFORM=${platform}: this engine cannot run ${image.ref} as ${platform} (${firstLine(error)}). ` +
        "Enable emulation (Docker Desktop, or QEMU binfmt on Linux) or set LABS_PLATFORM to a platform the image has.",
    );
  } finally {
    await container?.remove({ force: true, v: true }).catch(() => undefined);
  }
}
