// Started detached by the global setup: once the run's main process is gone, however it ended (Ctrl-C, SIGTERM,
// SIGKILL), removes what the run left on the engine. This is the suite's own Ryuk, which needs no image.
import Dockerode from "dockerode";
import { setTimeout as sleep } from "node:timers/promises";
import { removeRun } from "./cleanup.ts";
import { isRunAlive } from "./run.ts";

const [runId] = process.argv.slice(2);
const QUIET_ROUNDS = 3;
const GIVE_UP_MS = 12_000;

if (!runId) process.exit(2);
while (isRunAlive(runId, undefined)) await sleep(200);

// Workers may still be creating containers for a moment after the main process died: sweep until it stays quiet.
const docker = new Dockerode();
const started = Date.now();
let quiet = 0;
while (quiet < QUIET_ROUNDS && Date.now() - started < GIVE_UP_MS) {
  const found = await removeRun(docker, runId).catch(() => ["(engine error)"]);
  quiet = found.length === 0 ? quiet + 1 : 0;
  await sleep(500);
}
