import { Readable } from "node:stream";
import { pack } from "tar-stream";
import { dockerApi, productOf, type Docker } from "./client.ts";
import { followProgress, type Progress } from "./progress.ts";

// The classic builder colours a RUN's stderr as the CLI shows it (ESC[91m … ESC[0m); the lines keep the text only.
// eslint-disable-next-line no-control-regex
const plain = (line: string) => line.replace(/\u001b\[[0-9;]*m/g, "").trimEnd();

export interface BuildRun {
  // The engine's output, line by line, as `docker build` shows it.
  lines: string[];
  // The engine's error line where the build failed.
  error?: string;
}

// `docker build` through the engine's API with the builder it uses by default (the classic one; Podman's compat API
// uses Buildah), its context a tar made in memory: each line is passed on as it arrives. `forcerm` removes the step
// containers of a failed build too, as `docker build --force-rm` does.
export async function watchedBuild(
  tag: string,
  dockerfile: string,
  files: Record<string, string>,
  onLine: (line: string) => void,
): Promise<BuildRun> {
  const docker = await dockerApi();
  const context = pack();
  for (const [name, content] of Object.entries({ Dockerfile: dockerfile, ...files })) context.entry({ name }, content);
  context.finalize();
  // tar-stream's pack is a streamx stream; dockerode pipes a Node one into the request.
  const stream = await docker.buildImage(Readable.from(context, { objectMode: false }), { t: tag, forcerm: true });
  const lines: string[] = [];
  let pending = "";
  const onEvent = ({ stream: text }: Progress) => {
    const split = (pending + (text ?? "")).split("\n");
    pending = split.pop()!;
    for (const line of split.map(plain).filter(Boolean)) {
      lines.push(line);
      onLine(line);
    }
  };
  const error = await followProgress(docker, stream, { onEvent }).then(
    () => undefined,
    (failed: Error) => failed.message,
  );
  if (plain(pending)) lines.push(plain(pending));
  return { lines, ...(error === undefined ? {} : { error }) };
}

// The classic builder's "Step 2/6 : WORKDIR /app" and Buildah's (Podman's) "STEP 2/6: WORKDIR /app".
const STEP_LINE = /^(?:Step (\d+)\/(\d+) :|STEP (\d+)\/(\d+):) (.*)$/;

export function numberedSteps(lines: string[]) {
  return lines.flatMap((line) => {
    const match = STEP_LINE.exec(line);
    if (!match) return [];
    const [, number, of, podmanNumber, podmanOf, instruction] = match;
    return [{ number: Number(number ?? podmanNumber), of: Number(of ?? podmanOf), instruction: instruction! }];
  });
}

// The image each step left, as the builder printed it: the classic builder's " ---> 6c5c5d1dbc54" (12 hex digits),
// Buildah's (Podman's) "--> 7c5fb0629c2" (11 in Podman 4.3). A prefix of the image's id.
const STEP_IMAGE = /^(?: ---> ([0-9a-f]{12})|--> ([0-9a-f]{11,64}))$/;

export function printedStepImages(lines: string[]): string[] {
  return lines.flatMap((line) => {
    const [, classic, buildah] = STEP_IMAGE.exec(line) ?? [];
    return classic ?? buildah ?? [];
  });
}

type ListedContainer = { Id: string; ImageID: string; Labels?: Record<string, string> | null };
const bare = ({ Id, ImageID, Labels }: ListedContainer) => ({
  Id,
  ImageID: ImageID.replace(/^sha256:/, ""),
  Labels: Labels ?? {},
});

// Every container a build may run its steps in, its ImageID without "sha256:". The classic builder's are the engine's
// own containers; Buildah's (Podman's) working containers are not among those the Docker API lists: only Podman's own
// API does, with `external` (state "storage", no labels).
export async function buildContainers(docker: Docker) {
  const engines = (await docker.listContainers({ all: true })).map(bare);
  if (productOf(await docker.version()) !== "Podman") return engines;
  const buildah = await new Promise<ListedContainer[]>((resolve, reject) =>
    docker.modem.dial(
      {
        path: "/v4.0.0/libpod/containers/json?",
        method: "GET",
        options: { all: true, external: true },
        statusCodes: { 200: true, 500: "server error" },
      },
      (error: unknown, listed: unknown) => (error ? reject(error as Error) : resolve(listed as ListedContainer[])),
    ),
  );
  return [...engines, ...buildah.map(bare).filter(({ Id }) => !engines.some((known) => known.Id === Id))];
}

// A Dockerfile's instructions as a builder numbers them: comments and blank lines dropped, continued lines joined.
export function instructionsOf(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\n/g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}
