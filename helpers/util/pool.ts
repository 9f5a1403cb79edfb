// `work` on every item, at most `size` at a time; an aborted `until` starts no more.
export async function inPool<T>(
  items: readonly T[],
  size: number,
  until: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined && !until.aborted; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
