// Seconds since `start`, a performance.now() reading.
export const since = (start: number): number => (performance.now() - start) / 1000;

export async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = performance.now();
  const value = await work();
  return { value, seconds: since(start) };
}
