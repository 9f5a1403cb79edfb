// A request that failed because the engine itself went away (stopped, restarting), not because it said no.
export function isEngineLost(error: unknown): boolean {
  const { code, syscall } = (error ?? {}) as { code?: string; syscall?: string };
  if (code === "ECONNRESET" || code === "EPIPE") return true;
  return (code === "ENOENT" || code === "ECONNREFUSED") && syscall === "connect";
}

export function unlessEngineLost(error: unknown): void {
  if (!isEngineLost(error)) throw error;
}
