import { eachLine } from "../util/lines.ts";

const KEPT_LINES = 50;
const SHOWN_LINES = 8;
const SHOWN_WIDTH = 160;
const tails: LogTail[] = [];

// A failed step shows what its containers logged while it ran, even those of a container already removed.
export class LogTail {
  private lines: { at: number; text: string }[] = [];
  name: string;
  constructor(name: string) {
    this.name = name;
    tails.push(this);
  }
  follow(stream: NodeJS.ReadableStream): void {
    eachLine(stream, (text) => {
      if (text.trim() !== "") this.lines.push({ at: Date.now(), text });
      this.lines.splice(0, Math.max(0, this.lines.length - KEPT_LINES));
    });
  }
  since(startedAt: number): string[] {
    return this.lines
      .filter(({ at }) => at >= startedAt)
      .slice(-SHOWN_LINES)
      .map(({ text }) => (text.length > SHOWN_WIDTH ? `${text.slice(0, SHOWN_WIDTH - 1)}…` : text));
  }
}

// The containers that logged while the step ran: the ones it used, not every container of the file.
export function containerLogsSince(startedAt: number): { container: string; lines: string[] }[] {
  return tails
    .map((tail) => ({ container: tail.name, lines: tail.since(startedAt) }))
    .filter(({ lines }) => lines.length > 0);
}
