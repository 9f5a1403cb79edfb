import { createInterface } from "node:readline";

// Each whole line of a stream, however its chunks happen to split it.
export function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}
