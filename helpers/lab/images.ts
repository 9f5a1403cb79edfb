import { inject } from "vitest";
import { catalogueEntry } from "../catalogue/entries.ts";
import type { ResolvedImage } from "../catalogue/plan.ts";
export { describeImage, expectedOs } from "../catalogue/plan.ts";
export { catalogueEntry } from "../catalogue/entries.ts";
export { normalizeReference, parseReference } from "../catalogue/reference.ts";
export { labPlatform } from "../catalogue/settings.ts";
import { watchedBuild, type BuildRun } from "../engine/image-build.ts";
export {
  buildContainers,
  instructionsOf,
  numberedSteps,
  printedStepImages,
  type BuildRun,
} from "../engine/image-build.ts";
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

export interface BuiltImage extends ImageName {
  // The Dockerfile as built (the run's LABEL added) and the build's output.
  dockerfile: string;
  output: string[];
}

// `docker build` as the user watches it: every line of the engine's output is shown as it comes, and kept.
export function watchBuild(ref: string, dockerfile: string, files: Record<string, string> = {}): Promise<BuildRun> {
  return watchedBuild(ref, dockerfile, files, (line) => console.log(`docker build -t ${ref} | ${line}`));
}

// An image a spec builds carries the run's label and is removed with the spec, so the stand-ins stay the only images kept.
export async function buildImage(
  ref: string,
  dockerfile: string,
  files: Record<string, string> = {},
): Promise<BuiltImage> {
  const labelled = `${dockerfile.trimEnd()}\n${labelInstruction()}\n`;
  const build = await watchBuild(ref, labelled, files);
  if (build.error !== undefined) {
    throw new Error(
      `docker build -t ${ref} failed: ${build.error}; its last output: ${build.lines.slice(-5).join(" / ")}`,
    );
  }
  return Object.assign(await disposableName(ref), { dockerfile: labelled, output: build.lines });
}
