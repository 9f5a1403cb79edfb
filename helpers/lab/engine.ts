import { inject } from "vitest";

export { dockerApi, type Docker } from "../engine/client.ts";
export { dockerCli } from "../engine/cli.ts";
export { apiLevel } from "../engine/facts.ts";
export { canonicalDigestRef, layerOutcomes, pullImage, push, servedDigest } from "../engine/transfer.ts";

// The engine the run found, as the global setup read it: what a step may compare the image or container with.
export const labEngine = () => inject("engine");
