import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer } from "testcontainers";
import { inject } from "vitest";
import { catalogueEntry } from "../catalogue/entries.ts";
import type { ResolvedImage } from "../catalogue/plan.ts";
export { describeImage, expectedOs } from "../catalogue/plan.ts";
export { catalogueEntry } from "../catalogue/entries.ts";
export { normalizeReference, parseReference } from "../catalogue/reference.ts";
export { labPlatform } from "../catalogue/settings.ts";
import { dockerApi } from "../engine/client.ts";
import { unlessEngineLost } from "../engine/lost.ts";
import { labelInstruction } from "./containers.ts";

export const usedImages = new Set<ResolvedImage>();

export function labImage(official: string): ResolvedImage {
  const wanted = catalogueEntry(official).official;
  const resolved = inject("images") as ResolvedImage[] | undefined;
  // Nothing resolved: no global setup ran for this collection, so none of its steps will run either.
  if (!resolved) return { official: wanted, ref: wanted, id: "", lacks: [] };
  const image = resolved.find((candidate) => candidate.official === wanted);
  if (!image) throw new Error(`${official} was not resolved by the global setup`);
  usedImages.add(image);
  return image;
}

export interface ImageName extends AsyncDisposable {
  ref: string;
  id: string;
}

// A name a step gives an image (a tag, a build, a commit), removed with the step; the image itself stays while
// other names or containers hold it.
export async function disposableName(ref: string): Promise<ImageName> {
  const docker = await dockerApi();
  const { Id } = await docker.getImage(ref).inspect();
  return {
    ref,
    id: Id,
    [Symbol.asyncDispose]: async () => {
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch((error: { statusCode?: number }) => {
          if (error.statusCode !== 404) unlessEngineLost(error);
        });
    },
  };
}

// An image a spec builds carries the run's label and is removed with the spec, so the stand-ins stay the only images kept.
export async function buildImage(
  ref: string,
  dockerfile: string,
  files: Record<string, string> = {},
): Promise<ImageName> {
  const context = await mkdtemp(join(tmpdir(), "labs-build-"));
  try {
    await writeFile(join(context, "Dockerfile"), `${dockerfile.trimEnd()}\n${labelInstruction()}\n`);
    for (const [name, content] of Object.entries(files)) await writeFile(join(context, name), content);
    await GenericContainer.fromDockerfile(context).build(ref, { deleteOnExit: false });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return disposableName(ref);
}
