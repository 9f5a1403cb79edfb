import { once } from "node:events";
import { createServer } from "node:net";
import { LOOPBACK } from "./for-this-run.ts";

export async function assertFree(port: number, what: string): Promise<void> {
  const server = createServer().listen(port, LOOPBACK);
  await once(server, "listening").catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EADDRINUSE") throw error;
    throw new Error(
      `LABS_BOOK_PORTS=1 needs host port ${port} for ${what}, but it is taken: free it (lsof -i :${port}) or unset LABS_BOOK_PORTS to publish on a free port`,
      { cause: error },
    );
  });
  await new Promise((resolve) => server.close(resolve));
}

const BOOK_PORTS = [
  { port: 8001, what: "the nginx webserver of Lab 3-3" },
  { port: 9559, what: "cAdvisor in Lab 3-2" },
];

export async function assertBookPortsFree(): Promise<void> {
  if (process.env.LABS_BOOK_PORTS !== "1") return;
  for (const { port, what } of BOOK_PORTS) await assertFree(port, what);
}
