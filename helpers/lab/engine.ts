import { inject } from "vitest";

export { dockerApi, type Docker } from "../engine/client.ts";
export { dockerCli } from "../engine/cli.ts";
export { engineMessage } from "../engine/errors.ts";
export { apiLevel } from "../engine/facts.ts";
export { canonicalDigestRef, layerOutcomes, pullImage, push, servedDigest } from "../engine/transfer.ts";

// The engine the run found, as the global setup read it: what a step may compare the image or container with.
export const labEngine = () => inject("engine");
// The machine the suite runs on: where a host-side step looks, and with which tool.
export const labRunner = () => inject("runner");
