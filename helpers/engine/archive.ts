import type { Docker } from "./client.ts";

type Archive = NodeJS.ReadableStream & AsyncIterable<Buffer>;

// `docker save a b …`: one tar archive of several images, their shared layers in it once. dockerode has the call
// (GET /images/get with several names); its type declarations know only the one-image form.
export function imageArchive(docker: Docker, refs: string[]): Promise<Archive> {
  return (docker as unknown as { getImages(options: { names: string[] }): Promise<Archive> }).getImages({
    names: refs,
  });
}
