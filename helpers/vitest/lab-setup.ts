import { afterAll, beforeEach } from "vitest";
import { describeImage } from "../catalogue/plan.ts";
import { usedImages } from "../lab/images.ts";
import { containerLogsSince } from "../lab/logs.ts";

afterAll(({}, file) => {
  file.meta.labImages = [...usedImages].map(describeImage);
});

beforeEach(({ task, onTestFailed }) => {
  const startedAt = Date.now();
  onTestFailed(() => {
    const logs = containerLogsSince(startedAt);
    task.meta.containerLogs = logs;
    for (const { container, lines } of logs) {
      console.error(`last ${lines.length} log lines of ${container}:\n${lines.map((line) => `  ${line}`).join("\n")}`);
    }
  });
});
