// What a worker's files share (the labs' Chromium) is closed as the worker ends: the labs' test environment
// (helpers/vitest/worker-end.ts) runs these hooks at its teardown. The environment is loaded apart from the files'
// modules, so the two meet on a global symbol.
const HOOKS = Symbol.for("labs.worker-end");
type Hooks = Set<() => Promise<unknown>>;
const hooks = (): Hooks => ((globalThis as { [HOOKS]?: Hooks })[HOOKS] ??= new Set());

export const onWorkerEnd = (hook: () => Promise<unknown>) => void hooks().add(hook);

export const runWorkerEndHooks = () => Promise.allSettled([...hooks()].map((hook) => hook()));
