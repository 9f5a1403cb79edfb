import { assertFree } from "../run/book-ports.ts";

export type Publish = number | { container: number; host: number };

// LABS_BOOK_PORTS=1 publishes on the book's fixed host ports (8001, 9559); by default a free port is taken so that
// runs never clash.
export const onBookPorts = () => process.env.LABS_BOOK_PORTS === "1";

export async function publish(containerPort: number, bookPort: number, what: string): Promise<Publish> {
  if (!onBookPorts()) return containerPort;
  await assertFree(bookPort, what);
  return { container: containerPort, host: bookPort };
}
