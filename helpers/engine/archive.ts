import { pipeline } from "node:stream";
import { extract, type Extract } from "tar-stream";
import type { Docker } from "./client.ts";

type Archive = NodeJS.ReadableStream & AsyncIterable<Buffer>;

// `docker save a b …`: one tar archive of several images, their shared layers in it once. dockerode has the call
// (GET /images/get with several names); its type declarations know only the one-image form.
export function imageArchive(docker: Docker, refs: string[]): Promise<Archive> {
  return (docker as unknown as { getImages(options: { names: string[] }): Promise<Archive> }).getImages({
    names: refs,
  });
}

// The archive's entries, each read (or `resume()`d past) before the next: a layer goes on while the engine still sends
// it, never held in memory. A stream that fails or ends inside an entry fails the reader's loop.
export function tarEntries(archive: NodeJS.ReadableStream): Extract {
  const entries = extract();
  pipeline(archive, entries, () => undefined);
  return entries;
}
