import { createInterface } from "node:readline";

// Each whole line of a stream, however its chunks happen to split it. readline passes the stream's errors on to its
// interface, where nobody listens: the stream's own 'error' listener is where they are handled.
export function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity })
    .on("line", onLine)
    .on("error", () => undefined);
}
