import { enableCompileCache } from "node:module";
import { resolve } from "node:path";
import { setFlagsFromString } from "node:v8";
import type { TestProjectInlineConfiguration } from "vitest/config";

// Each worker thread is a V8 isolate whose young generation grows to tens of MB while a lab waits on the engine; the
// workers start after this, and capped at 1 MB semi-spaces the run peaks ~40 MB lower for about 1 s more CPU.
setFlagsFromString("--max-semi-space-size=1");

// Each worker thread compiles testcontainers, undici and their dependencies again, as the global setup did: ~0.2 s of a
// core each, on the way to a lab's first container. V8's code cache on disk (Node's compile cache) halves it; the
// workers take it from the environment they inherit. A user's own NODE_COMPILE_CACHE wins.
process.env.NODE_COMPILE_CACHE ??= resolve(import.meta.dirname, "../../node_modules/.cache/node-compile");
enableCompileCache(process.env.NODE_COMPILE_CACHE);

export function labsProject(name: string, include: string[]): TestProjectInlineConfiguration {
  return {
    test: {
      name,
      include,
      globalSetup: ["helpers/vitest/global-setup.ts"],
      setupFiles: ["helpers/vitest/lab-setup.ts"],
      environment: "./helpers/vitest/worker-end.ts",
      pool: "threads",
      // A fresh worker per file imported testcontainers, undici and the helpers again for each of the seven files:
      // ~5 s of the run's CPU on 2 cores. The labs keep no state between files but the images each file used.
      isolate: false,
      // The labs wait on the engine far more than they compute: on 2 cores, two files at once still overlap well.
      maxWorkers: 2,
      testTimeout: 60_000,
      // A container's output or a page's text can trail by seconds on a loaded 2-core machine; 1 s is vitest's default.
      expect: { poll: { timeout: 10_000, interval: 100 } },
      hookTimeout: 180_000,
    },
  };
}
