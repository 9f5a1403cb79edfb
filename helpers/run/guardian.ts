// Started detached by the global setup: once the run's main process is gone, however it ended (Ctrl-C, SIGTERM,
// SIGKILL), removes what the run left on the engine. This is the suite's own Ryuk, which needs no image.
import { setTimeout as sleep } from "node:timers/promises";
import { dockerApi } from "../engine/client.ts";
import { isRunAlive } from "./identity.ts";
import { removeRunResources } from "./ownership.ts";

const [runId] = process.argv.slice(2);
const QUIET_ROUNDS = 3;
const GIVE_UP_MS = Number(process.env.LABS_GUARDIAN_GIVE_UP_MS ?? 30_000);

if (!runId) process.exit(2);
while (isRunAlive(runId, undefined)) await sleep(200);

// Workers may still be creating containers for a moment after the main process died, and the engine may be
// restarting: sweep until it answers and stays quiet, or give up and leave it to the next run's sweep.
const started = Date.now();
let quiet = 0;
while (quiet < QUIET_ROUNDS && Date.now() - started < GIVE_UP_MS) {
  const found = await dockerApi()
    .then((docker) => removeRunResources(docker, runId))
    .catch(() => undefined);
  quiet = found?.length === 0 ? quiet + 1 : 0;
  await sleep(500);
}
