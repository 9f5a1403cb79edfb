import { assertFree } from "../run/ports.ts";

export type Publish = number | { container: number; host: number };

// The book publishes on fixed host ports (8001, 9559); by default a free port is taken so that runs never clash.
export async function publish(containerPort: number, bookPort: number, what: string): Promise<Publish> {
  if (process.env.LABS_BOOK_PORTS !== "1") return containerPort;
  await assertFree(bookPort, what);
  return { container: containerPort, host: bookPort };
}
