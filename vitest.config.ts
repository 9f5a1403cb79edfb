import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

const labs: TestProjectInlineConfiguration["test"] = {
  globalSetup: ["helpers/vitest/global-setup.ts"],
  setupFiles: ["helpers/vitest/lab-setup.ts"],
  env: { TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1" },
  pool: "threads",
  // The labs wait on the engine far more than they compute: on 2 cores, four files at once still overlap well.
  maxWorkers: 2,
  testTimeout: 60_000,
  hookTimeout: 180_000,
};

export default defineConfig({
  test: {
    reporters: ["verbose"],
    attachmentsDir: "reports/.attachments",
    projects: [
      {
        test: {
          name: "unit",
          include: ["specs/unit/**/*.spec.ts"],
        },
      },
      { test: { name: "labs", include: ["specs/*.spec.ts"], ...labs } },
      { test: { name: "probes", include: ["specs/reliability/probes/*.spec.ts"], ...labs } },
      {
        test: {
          name: "reliability",
          include: ["specs/reliability/*.spec.ts"],
          fileParallelism: false,
        },
      },
    ],
  },
});
