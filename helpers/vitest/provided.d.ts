import type { ResolvedImage } from "../catalogue/plan.ts";
import type { Engine } from "../engine/facts.ts";

declare module "vitest" {
  export interface ProvidedContext {
    runId: string;
    engine: Engine;
    images: ResolvedImage[];
  }
}

declare module "vitest" {
  interface TaskMeta {
    labImages?: string[];
    containerLogs?: { container: string; lines: string[] }[];
  }
}
