import { PassThrough } from "node:stream";
import Dockerode from "dockerode";
import { describe, expect, it } from "vitest";
import type { Docker } from "../../helpers/engine/client.ts";
import { answeredWithin, followProgress, StalledTransfer } from "../../helpers/engine/progress.ts";

// Only its modem parses the stream; nothing is sent to an engine.
const docker = new Dockerode() as unknown as Docker;
const line = (event: object) => `${JSON.stringify(event)}\r\n`;

describe("following an engine's progress stream", () => {
  it("resolves with every event of a stream that ends", async () => {
    const stream = new PassThrough();
    const events = followProgress(docker, stream, { idleSeconds: 1 });
    stream.end(line({ status: "Pushed", id: "a" }) + line({ aux: { Digest: "sha256:1" } }));
    await expect(events).resolves.toEqual([{ status: "Pushed", id: "a" }, { aux: { Digest: "sha256:1" } }]);
  });

  it("rejects with the engine's error line", async () => {
    const stream = new PassThrough();
    const events = followProgress(docker, stream);
    stream.end(line({ error: "no basic auth credentials" }));
    await expect(events).rejects.toThrow(/^no basic auth credentials$/);
  });

  it("closes a stream that goes silent and names the last thing it said", async () => {
    const stream = new PassThrough();
    const events = followProgress(docker, stream, { idleSeconds: 0.2 });
    stream.write(line({ status: "Preparing", id: "a" }));
    await expect(events).rejects.toThrow(StalledTransfer);
    await expect(events).rejects.toThrow('the engine reported nothing for 0.2 s after "Preparing"');
    expect(stream.destroyed).toBe(true);
  });

  it("gives up on a request the engine never answers, and closes it", async () => {
    let closed = false;
    const neverAnswered = (signal: AbortSignal) =>
      new Promise<never>((_, reject) =>
        signal.addEventListener("abort", () => {
          closed = true;
          reject(new Error("aborted"));
        }),
      );
    await expect(answeredWithin(0.2, neverAnswered)).rejects.toThrow(
      new StalledTransfer("the engine did not answer the request within 0.2 s"),
    );
    expect(closed).toBe(true);
  });

  it("passes on the answer and the engine's own refusal", async () => {
    const stream = new PassThrough();
    await expect(answeredWithin(1, async () => stream)).resolves.toBe(stream);
    await expect(answeredWithin(1, () => Promise.reject(new Error("no such image")))).rejects.toThrow("no such image");
  });
});
