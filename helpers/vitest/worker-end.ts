import { builtinEnvironments, type Environment } from "vitest/runtime";

// Vitest sets a test environment up once per worker and tears it down as the worker stops: the one hook at a worker's
// end, where what the worker's files share (the labs' Chromium) is closed. The environment is loaded apart from the
// files' modules, so the two meet on a global symbol.
const HOOKS = Symbol.for("labs.worker-end");
type Hooks = Set<() => Promise<unknown>>;
const hooks = (): Hooks => ((globalThis as { [HOOKS]?: Hooks })[HOOKS] ??= new Set());

export const onWorkerEnd = (hook: () => Promise<unknown>) => void hooks().add(hook);

const { node } = builtinEnvironments;
export default {
  ...node,
  name: "labs-worker",
  async setup(global, options) {
    const { teardown } = await node.setup(global, options);
    return {
      async teardown(global) {
        await Promise.allSettled([...hooks()].map((hook) => hook()));
        await teardown(global);
      },
    };
  },
} satisfies Environment;
