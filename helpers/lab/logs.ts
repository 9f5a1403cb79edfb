const TAIL_LINES = 20;
const tails: LogTail[] = [];

// A failed step shows the last lines its containers logged, even those of a container already removed.
export class LogTail {
  lines: string[] = [];
  name: string;
  constructor(name: string) {
    this.name = name;
    tails.push(this);
  }
  follow(stream: NodeJS.ReadableStream): void {
    let partial = "";
    stream.on("data", (chunk: Buffer | string) => {
      const text = partial + chunk.toString();
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      this.lines.push(...lines.filter((line) => line.trim() !== ""));
      this.lines.splice(0, Math.max(0, this.lines.length - TAIL_LINES));
    });
  }
}

export function recentContainerLogs(): { container: string; lines: string[] }[] {
  return tails
    .filter(({ lines }) => lines.length > 0)
    .map(({ name, lines }) => ({ container: name, lines: [...lines] }));
}
