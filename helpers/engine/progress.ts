import type { Docker } from "./client.ts";

export interface Progress {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string };
}

// A pull, push or build streams its outcome: a failure is a line with an `error`, not an HTTP status.
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<Progress[]> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (error: Error | null, events: Progress[]) => {
      const failed = events?.find((event) => event.error);
      if (error || failed) reject(new Error((error?.message ?? failed?.error ?? "").trim()));
      else resolve(events);
    }),
  );
}
