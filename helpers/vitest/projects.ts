import type { TestProjectInlineConfiguration } from "vitest/config";

export function labsProject(name: string, include: string[]): TestProjectInlineConfiguration {
  return {
    test: {
      name,
      include,
      globalSetup: ["helpers/vitest/global-setup.ts"],
      setupFiles: ["helpers/vitest/lab-setup.ts"],
      env: { TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1" },
      pool: "threads",
      // The labs wait on the engine far more than they compute: on 2 cores, two files at once still overlap well.
      maxWorkers: 2,
      testTimeout: 60_000,
      // A container's output or a page's text can trail by seconds on a loaded 2-core machine; 1 s is vitest's default.
      expect: { poll: { timeout: 10_000, interval: 100 } },
      hookTimeout: 180_000,
    },
  };
}
