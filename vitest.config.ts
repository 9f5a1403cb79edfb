import { defineConfig } from "vitest/config";
import { labsProject } from "./helpers/vitest/projects.ts";

// What `npx vitest run` and `npm test` run: the unit specs and every lab. The suite's own reliability specs live in
// specs/reliability/vitest.config.ts, because they start runs of this suite as child processes.
export default defineConfig({
  test: {
    // The labs' report folder and, for another process, their results as JSON (only when LABS_RESULTS_FILE is set).
    reporters: ["verbose", "./helpers/vitest/labs-reporter.ts", "./helpers/vitest/results-reporter.ts"],
    attachmentsDir: "reports/.attachments",
    projects: [
      { test: { name: "unit", include: ["specs/unit/**/*.spec.ts"] } },
      labsProject("labs", ["specs/*.spec.ts"]),
    ],
  },
});
