import type { Docker } from "../engine/client.ts";
import { followProgress } from "../engine/progress.ts";
import { labelsFor } from "../run/identity.ts";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { catalogueEntry, type StandIn } from "./entries.ts";
import { digestFor, registryHostOf, standInFacts, type Plan, type ResolvedImage } from "./plan.ts";
import { parseReference } from "./reference.ts";

export class SetupError extends Error {}

const AVAILABILITY_MS = 10_000;

// Whether an official image can be had is the engine's question, not Node's: the engine pulls through the user's
// mirrors, proxy and credentials, which Node knows nothing of. A local copy counts too.
async function engineCanHave(docker: Docker, ref: string): Promise<string | undefined> {
  if (
    await docker
      .getImage(ref)
      .inspect()
      .then(
        () => true,
        () => false,
      )
  )
    return undefined;
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${AVAILABILITY_MS / 1000} s`)), AVAILABILITY_MS).unref(),
  );
  return Promise.race([docker.getImage(ref).distribution({}), timeout]).then(
    () => undefined,
    (error: unknown) => firstLine(error),
  );
}

// For LABS_IMAGES=auto: the official reference of each image the engine can have, and why it cannot have the others.
export async function officialAvailability(docker: Docker, entries: readonly StandIn[]): Promise<Map<string, string>> {
  const reasons = await Promise.all(entries.map(({ official }) => engineCanHave(docker, official)));
  return new Map(entries.flatMap(({ official }, index) => (reasons[index] ? [[official, reasons[index]]] : [])));
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
      throw new SetupError(await pullFailure(docker, plan, firstLine(error)));
    }
  }
  const digest = digestFor(plan.ref, info.RepoDigests);
  const facts = standInFacts(info.Config?.Labels ?? undefined);
  return { official: plan.official, ref: plan.ref, id: info.Id, ...(digest ? { digest } : {}), ...facts };
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

// LABS_IMAGES=auto on a machine with an engine and no registry: build the stand-ins it lacks, with the progress
// lines `npm run images:build` prints, rather than stop. Where the build cannot run, its own one line says why.
export async function buildMissingStandIns(docker: Docker, plans: Plan[]): Promise<void> {
  const missing: string[] = [];
  for (const plan of plans.filter(({ why }) => why === "stand-in")) {
    const built = await docker
      .getImage(plan.ref)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    if (!built) missing.push(catalogueEntry(plan.official).recipe);
  }
  if (missing.length === 0) return;
  console.log(`images: building the stand-ins this run needs and lacks: ${missing.join(", ")}`);
  const build = spawn(process.execPath, [join(import.meta.dirname, "..", "..", "images", "build.ts"), ...missing], {
    stdio: ["ignore", "inherit", "pipe"],
  });
  let errors = "";
  build.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
  const [code] = (await once(build, "close")) as [number | null];
  if (code !== 0) {
    const reason = errors.trim().split("\n")[0] ?? `exit ${code}`;
    throw new SetupError(`LABS_IMAGES=auto could not build the stand-ins ${missing.join(", ")}: ${reason}`);
  }
}
