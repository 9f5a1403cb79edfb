import { afterAll, beforeEach } from "vitest";
import { recentContainerLogs } from "../lab/logs.ts";
import { describeImage } from "../catalogue/plan.ts";
import { usedImages } from "../lab/images.ts";

afterAll(({}, file) => {
  file.meta.labImages = [...usedImages].map(describeImage);
});

beforeEach(({ task, onTestFailed }) => {
  onTestFailed(() => {
    const logs = recentContainerLogs();
    task.meta.containerLogs = logs;
    for (const { container, lines } of logs) {
      console.error(`last ${lines.length} log lines of ${container}:\n${lines.map((line) => `  ${line}`).join("\n")}`);
    }
  });
});
