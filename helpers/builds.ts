import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer } from "testcontainers";
import { labelInstruction } from "./containers.ts";
import { dockerApi } from "./docker.ts";

export interface BuiltImage extends AsyncDisposable {
  ref: string;
  id: string;
}

// An image a spec builds carries the run's label and is removed with the spec, so the stand-ins stay the only images kept.
export async function buildImage(
  ref: string,
  dockerfile: string,
  files: Record<string, string> = {},
): Promise<BuiltImage> {
  const context = await mkdtemp(join(tmpdir(), "labs-build-"));
  try {
    await writeFile(join(context, "Dockerfile"), `${dockerfile.trimEnd()}\n${labelInstruction()}\n`);
    for (const [name, content] of Object.entries(files)) await writeFile(join(context, name), content);
    await GenericContainer.fromDockerfile(context).build(ref, { deleteOnExit: false });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  return imageHandle(ref);
}

export async function imageHandle(ref: string): Promise<BuiltImage> {
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
          if (error.statusCode !== 404) throw error;
        });
    },
  };
}
