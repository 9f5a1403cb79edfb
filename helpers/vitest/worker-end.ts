import { builtinEnvironments, type Environment } from "vitest/runtime";
import { runWorkerEndHooks } from "../util/worker-end.ts";

// Vitest sets a test environment up once per worker and tears it down as the worker stops: the one hook at a worker's
// end, where it runs what the worker's files asked to be run then (helpers/util/worker-end.ts).
const { node } = builtinEnvironments;
export default {
  ...node,
  name: "labs-worker",
  async setup(global, options) {
    const { teardown } = await node.setup(global, options);
    return {
      async teardown(global) {
        await runWorkerEndHooks();
        await teardown(global);
      },
    };
  },
} satisfies Environment;
