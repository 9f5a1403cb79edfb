import { defineConfig } from "vitest/config";
import { join } from "node:path";
import { labsProject } from "../../helpers/vitest/projects.ts";

// `npm run test:reliability`: specs that run the suite itself as child processes, one at a time. The probes are
// deliberately broken lab runs; only a reliability spec starts them (LABS_PROBES=1), so no plain run fails by design.
export default defineConfig({
  root: join(import.meta.dirname, "..", ".."),
  test: {
    reporters: ["verbose"],
    attachmentsDir: "reports/.attachments",
    projects: [
      {
        test: {
          name: "reliability",
          include: ["specs/reliability/*.spec.ts"],
          fileParallelism: false,
          hookTimeout: 180_000,
        },
      },
      ...(process.env.LABS_PROBES === "1" ? [labsProject("probes", ["specs/reliability/probes/*.spec.ts"])] : []),
    ],
  },
});
