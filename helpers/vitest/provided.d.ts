import type { ResolvedImage } from "../catalogue/plan.ts";
import type { Engine, Runner } from "../engine/facts.ts";
import type { RunRegistry } from "../run/run-registry.ts";

declare module "vitest" {
  export interface ProvidedContext {
    runId: string;
    engine: Engine;
    runner: Runner;
    images: ResolvedImage[];
    registry: RunRegistry | undefined;
  }

  interface TaskMeta {
    labImages?: string[];
    containerLogs?: { container: string; lines: string[] }[];
  }
}
