import { readdir } from "node:fs/promises";
import type { Docker } from "../engine/client.ts";
import { followProgress, type Progress } from "../engine/progress.ts";
import { pollUntil } from "../util/poll.ts";

const TAIL_LINES = 40;
const STEP_CONTAINER_GONE_MS = 10_000;

export class BuildFailed extends Error {}

export interface FolderBuild {
  tag: string;
  labels: Record<string, string>;
  nocache?: boolean;
  signal?: AbortSignal;
  // The base's platform when it is not the engine's (an arm64 stand-in built under QEMU).
  platform?: string;
  // Step lines, and the step containers and step images the build made (not the base image nor cached steps),
  // as the builder prints them.
  onLine?: (line: string) => void;
}

// Only the build itself knows what it made that nothing else owns yet: the image of the last step it ran.
interface Trail {
  image?: string;
  tail: string[];
}

function following(trail: Trail, onLine: (line: string) => void): (event: Progress) => void {
  let pending = "";
  let inherited = true;
  return (event) => {
    const lines = (pending + (event.stream ?? "")).split("\n");
    pending = lines.pop()!;
    for (const line of lines.filter((text) => text.trim() !== "")) {
      trail.tail.push(line);
      if (trail.tail.length > TAIL_LINES) trail.tail.shift();
      const step = line.match(/^Step \d+\/\d+ : (\w+)/)?.[1];
      const image = line.match(/^ ---> ([0-9a-f]{12,64})$/)?.[1];
      if (step) inherited = step.toUpperCase() === "FROM";
      if (line === " ---> Using cache") inherited = true;
      if (image && !inherited) trail.image = image;
      if (step || line.startsWith(" ---> Running in ") || (image && !inherited)) onLine(line);
    }
  };
}

const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

// A cancelled or failed step's container is removed by the engine itself, a moment after the build ends (its id
// may never have reached us); until then it holds the step image it runs on.
async function waitUntilNoContainerUses(docker: Docker, image: string): Promise<void> {
  const filters = JSON.stringify({ ancestor: [image] });
  let users: Awaited<ReturnType<Docker["listContainers"]>> = [];
  const gone = async () => ((users = await docker.listContainers({ all: true, filters })).length ? undefined : true);
  await pollUntil(gone, { timeoutMs: STEP_CONTAINER_GONE_MS, intervalMs: 200 });
  for (const { Id } of users) {
    await docker
      .getContainer(Id)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

// An image someone tagged, or built on, is theirs: only an untagged leaf is removed (a conflict means it is not one).
export async function removeIfUntagged(docker: Docker, id: string): Promise<void> {
  const image = docker.getImage(id);
  const info = await image.inspect().catch(() => undefined);
  if (!info || (info.RepoTags ?? []).some((tag) => tag !== "<none>:<none>")) return;
  await image.remove().catch((error: unknown) => {
    if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
  });
}

// The legacy builder, as `docker build --network host --force-rm` runs it; aborting `signal` makes the engine
// cancel the build. Resolves to the built image's id.
export async function imageBuiltFrom(docker: Docker, folder: string, build: FolderBuild): Promise<string> {
  const trail: Trail = { tail: [] };
  try {
    const stream = await docker.buildImage(
      { context: folder, src: await readdir(folder) },
      {
        t: build.tag,
        networkmode: "host",
        forcerm: true,
        nocache: build.nocache ?? false,
        labels: build.labels,
        ...(build.signal ? { abortSignal: build.signal } : {}),
        ...(build.platform ? { platform: build.platform } : {}),
      },
    );
    const events = await followProgress(docker, stream, { onEvent: following(trail, build.onLine ?? (() => {})) });
    const id = events.find(({ aux }) => aux?.ID)?.aux?.ID;
    if (!id) throw new Error("the engine ended the build without naming the image it built");
    return id;
  } catch (error) {
    if (trail.image) {
      await waitUntilNoContainerUses(docker, trail.image);
      await removeIfUntagged(docker, trail.image);
    }
    if (build.signal?.aborted) throw error;
    const tail = trail.tail.map((line) => `  ${line}`).join("\n");
    throw new BuildFailed(`docker build failed: ${(error as Error).message}; its last output:\n${tail}`);
  }
}
