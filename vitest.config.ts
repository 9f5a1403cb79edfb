import { defineConfig } from "vitest/config";

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
      {
        test: {
          name: "labs",
          include: ["specs/*.spec.ts"],
          globalSetup: ["helpers/global-setup.ts"],
          setupFiles: ["helpers/lab-setup.ts"],
          env: { TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1" },
          pool: "forks",
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
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
