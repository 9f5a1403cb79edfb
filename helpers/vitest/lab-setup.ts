import { afterAll, beforeEach, inject } from "vitest";
import { isEngineLost } from "../engine/lost.ts";
import { describeImage } from "../catalogue/plan.ts";
import { usedImages } from "../lab/images.ts";
import { containerLogsSince } from "../run/logs.ts";

// What testcontainers' getHost() answers, before a lab starts its first container: the address the run publishes on.
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= inject("engine").publishAddress;

// A worker runs several files in turn (isolate: false), and the set is the worker's: each file reports its own.
afterAll(({}, file) => {
  file.meta.labImages = [...usedImages].map(describeImage);
  usedImages.clear();
});

// Once the engine is gone every later step would fail the same way: they are skipped, and the run's one line about
// the lost engine (printed by the global setup) says why.
let engineLost = false;

beforeEach(({ task, onTestFailed, skip }) => {
  if (engineLost) skip("not run: the engine went away earlier in this run");
  const startedAt = Date.now();
  onTestFailed(({ task: failed }) => {
    if (failed.result?.errors?.some(isEngineLost)) engineLost = true;
    const logs = containerLogsSince(startedAt);
    task.meta.containerLogs = logs;
    for (const { container, lines } of logs) {
      console.error(`last ${lines.length} log lines of ${container}:\n${lines.map((line) => `  ${line}`).join("\n")}`);
    }
  });
});
