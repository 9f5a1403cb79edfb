import type { Engine } from "./engine.ts";
import type { ResolvedImage } from "./images.ts";

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
