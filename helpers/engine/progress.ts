import type { Docker } from "./client.ts";

export interface Progress {
  status?: string;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string; ID?: string };
}

// A pull, push or build streams its outcome: a failure is a line with an `error`, not an HTTP status.
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<Progress[]> {
  return followProgressWith(docker, stream, () => {});
}

// The same, for a caller that shows a long build's output while it runs rather than once it has ended.
export function followProgressWith(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (event: Progress) => void,
): Promise<Progress[]> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Progress[]) => {
        const failed = events?.find((event) => event.error);
        if (error || failed) reject(new Error((error?.message ?? failed?.error ?? "").trim()));
        else resolve(events);
      },
      onEvent,
    ),
  );
}
