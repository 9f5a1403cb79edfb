import type { Engine } from "./engine.ts";
import type { ResolvedImage } from "./images.ts";

declare module "vitest" {
  export interface ProvidedContext {
    runId: string;
    engine: Engine;
    images: ResolvedImage[];
  }
}
