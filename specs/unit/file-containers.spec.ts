import { setTimeout as nextTask } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { startForFile } from "../../helpers/lab/containers.ts";

type Cleanup = () => void | PromiseLike<void>;

// Containers whose stops the spec ends by hand, and a file's teardowns as vitest runs them: last registered, first.
function aFile() {
  const stops: string[] = [];
  const finish = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  const cleanups: Cleanup[] = [];
  const container = (name: string) => ({
    start: async () => ({
      stop: () => {
        stops.push(name);
        return new Promise<void>((resolve, reject) => finish.set(name, { resolve, reject }));
      },
    }),
  });
  const start = (name: string) => startForFile(container(name), { onCleanup: (cleanup) => cleanups.push(cleanup) });
  const tornDown = (index: number) => Promise.resolve(cleanups[index]!());
  return { stops, finish: (name: string) => finish.get(name)!, start, tornDown };
}

describe("a file's containers", () => {
  it("all stop at the first container teardown, and each teardown waits for its own container", async () => {
    const file = aFile();
    await file.start("db");
    await file.start("app");
    let appDown = false;
    const app = file.tornDown(1).then(() => (appDown = true));
    expect(file.stops).toEqual(["db", "app"]);
    file.finish("db").resolve();
    await nextTask(0);
    expect(appDown).toBe(false);
    file.finish("app").resolve();
    await app;
    await file.tornDown(0);
    expect(file.stops).toEqual(["db", "app"]);
  });

  it("a stop that fails fails its own container's teardown, and is not unhandled until then", async () => {
    const file = aFile();
    await file.start("db");
    await file.start("app");
    const app = file.tornDown(1);
    file.finish("db").reject(new Error("db would not stop"));
    file.finish("app").resolve();
    await app;
    await nextTask(0);
    await expect(file.tornDown(0)).rejects.toThrow("db would not stop");
  });
});
