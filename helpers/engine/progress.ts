import type { Readable } from "node:stream";
import type { Docker } from "./client.ts";

export interface Progress {
  id?: string;
  status?: string;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string; ID?: string };
}

// An engine that stops reporting on a transfer it has not ended: the stream is closed, so that the engine cancels it.
export class StalledTransfer extends Error {}

// The engine's answer to a streaming request (its first byte), within a limit: Docker 20.10 once left a pull
// unanswered for minutes. `start` passes the signal on to dockerode, so the request is closed, not left open.
export async function answeredWithin<Answer>(
  seconds: number,
  start: (signal: AbortSignal) => Promise<Answer>,
): Promise<Answer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), seconds * 1000);
  try {
    return await start(controller.signal);
  } catch (error) {
    if (!controller.signal.aborted) throw error;
    throw new StalledTransfer(`the engine did not answer the request within ${seconds} s`);
  } finally {
    clearTimeout(timer);
  }
}

// A pull, push or build streams its outcome: a failure is a line with an `error`, not an HTTP status. `onEvent` sees
// each event as it arrives, for a caller that shows a long build's output while it runs rather than once it has ended.
export function followProgress(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  { idleSeconds, onEvent }: { idleSeconds?: number; onEvent?: (event: Progress) => void } = {},
): Promise<Progress[]> {
  let last: Progress | undefined;
  let idle: NodeJS.Timeout | undefined;
  const rearm = () => {
    if (idleSeconds === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(() => {
      const doing = last ? `after "${(last.status ?? last.stream ?? "").trim()}"` : "before its first line";
      (stream as Readable).destroy(new StalledTransfer(`the engine reported nothing for ${idleSeconds} s ${doing}`));
    }, idleSeconds * 1000);
  };
  rearm();
  return new Promise<Progress[]>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Progress[]) => {
        clearTimeout(idle);
        const failed = events?.find((event) => event.error);
        if (error instanceof StalledTransfer) reject(error);
        else if (error || failed) reject(new Error((error?.message ?? failed?.error ?? "").trim()));
        else resolve(events);
      },
      (event: Progress) => {
        last = event;
        rearm();
        onEvent?.(event);
      },
    ),
  );
}
