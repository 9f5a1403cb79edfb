import { startForFile, type FixtureHooks } from "./containers.ts";

export interface Starting<Started> {
  started: Promise<Started>;
}

// For `test.extend(name, { scope: "file", auto: true }, …)`: the container starts as the file starts, beside the
// file's other containers and its first steps, and a step waits for it only when it uses it (a file fixture that
// returns `started`). The cleanup is registered at once, so a file that ends before the start finished still stops it.
export function startEarly<Started extends { stop(): Promise<unknown> }>(
  container: { start(): Promise<Started> },
  { onCleanup }: FixtureHooks,
): Starting<Started> {
  let stop: (() => void | PromiseLike<void>) | undefined;
  const started = startForFile(container, { onCleanup: (cleanup) => void (stop = cleanup) });
  // A failed start is reported by the steps that wait for the container, not as an unhandled rejection.
  started.catch(() => undefined);
  onCleanup(async () => {
    if (
      await started.then(
        () => true,
        () => false,
      )
    )
      await stop?.();
  });
  return { started };
}
