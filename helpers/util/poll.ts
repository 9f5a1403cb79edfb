import { setTimeout as sleep } from "node:timers/promises";

// Asks `probe` every `intervalMs` until it gives a value or `timeoutMs` has passed (then undefined). For code outside
// a test; inside one, expect.poll says the same with an assertion.
export async function pollUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}
