import type { Docker } from "../engine/client.ts";
import { engineMessage } from "../engine/errors.ts";
import { followProgress } from "../engine/progress.ts";
import { digestFor, registryHostOf, standInFacts, type Plan, type ResolvedImage } from "../catalogue/plan.ts";
import { normalizeReference, parseReference } from "../catalogue/reference.ts";
import { labelsFor } from "./identity.ts";

// Each image is pulled for the platform it will run as: mysql:5.7 exists for linux/amd64 only, so an arm64 engine
// asked for it without a platform finds nothing.
export async function resolveImage(docker: Docker, plan: Plan, platform?: string): Promise<ResolvedImage> {
  const inspect = () => docker.getImage(plan.ref).inspect();
  let info = await inspect().catch(() => undefined);
  if (!info && plan.why === "stand-in") {
    throw new Error(
      `The stand-in ${plan.ref} for ${plan.official} is not built: run \`npm run images:build\` (or use LABS_IMAGES=official where a registry answers).`,
    );
  }
  if (!info) {
    console.log(`images: pulling ${plan.ref}${platform ? ` for ${platform}` : ""} ...`);
    try {
      await followProgress(docker, await docker.pull(plan.ref, platform ? { platform } : {}));
      info = await inspect();
    } catch (error) {
      throw new Error(await pullFailure(docker, plan, engineMessage(error)), { cause: error });
    }
  }
  const ref = nameOnEngine(plan.ref, info.RepoTags ?? []);
  // Podman records a digest for an image loaded from an archive too, under its local `localhost/` name: no registry's.
  const digest = parseReference(ref).registry === "localhost" ? undefined : digestFor(ref, info.RepoDigests);
  const facts = standInFacts(info.Config?.Labels ?? undefined);
  return { official: plan.official, ref, id: info.Id, ...(digest ? { digest } : {}), ...facts };
}

// The name the engine keeps the image under, which steps compare its names with. Docker keeps a name without a
// registry on Docker Hub (`docker.io/labs-stand-in/debian`); Podman keeps an image loaded or built under such a name in
// `localhost/` (and answers the short name with it).
export function nameOnEngine(ref: string, repoTags: readonly string[]): string {
  const tags = repoTags.map((tag) => normalizeReference(tag));
  if (tags.includes(normalizeReference(ref))) return ref;
  const { registry, repository, tag } = parseReference(ref);
  if (!tag) return ref;
  const local = `localhost/${repository.replace(/^library\//, "")}:${tag}`;
  return registry === "docker.io" && !ref.startsWith("docker.io/") && tags.includes(local) ? local : ref;
}

// The engine's error names only the registry it tried last: a Docker Hub image went to the engine's mirrors first,
// and a mirror that is down is what the user has to fix.
async function pullFailure(docker: Docker, plan: Plan, why: string): Promise<string> {
  const image = plan.ref === plan.official ? plan.ref : `${plan.ref} (for ${plan.official})`;
  const registry = registryHostOf(plan.ref);
  const hub = parseReference(plan.ref).registry === "docker.io";
  const mirrors: string[] = hub ? ((await docker.info().catch(() => undefined))?.RegistryConfig?.Mirrors ?? []) : [];
  const instead = "or run the stand-ins: LABS_IMAGES=auto builds the ones it lacks";
  return mirrors.length
    ? `Could not pull ${image} through the engine's registry mirror ${mirrors.join(", ")} nor from ${registry}: ` +
        `${why}. Start the mirror (or take it out of the engine's registry-mirrors), ${instead}.`
    : `Could not pull ${image} from ${registry}: ${why}. Let the engine reach ${registry}, ${instead}.`;
}

// Lab 3-1 runs mysql:5.7 as LABS_PLATFORM (the book's linux/amd64): one throwaway container proves the engine can.
// An image of the engine's own platform needs no emulation and no proof: it would only delay every lab by its start.
export async function assertPlatformRuns(
  docker: Docker,
  image: ResolvedImage,
  platform: string,
  runId: string,
  enginePlatform: string,
): Promise<void> {
  const { Os, Architecture } = await docker.getImage(image.ref).inspect();
  if (platform === enginePlatform && `${Os}/${Architecture}` === platform) return;
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
    throw new Error(
      `LABS_PLATFORM=${platform}: this engine cannot run ${image.ref} as ${platform} (${engineMessage(error)}). ` +
        "Enable emulation (Docker Desktop, or QEMU binfmt on Linux) or set LABS_PLATFORM to a platform the image has.",
      { cause: error },
    );
  } finally {
    await container?.remove({ force: true, v: true }).catch(() => undefined);
  }
}
