import { randomBytes } from "node:crypto";
import { dockerApi } from "../engine/client.ts";
import { unlessEngineLost } from "../engine/lost.ts";
import { nameForRun, runLabels, type FixtureHooks } from "./containers.ts";

// For `test.extend("network", { scope: "file" }, networkFixture)`: a user-defined network the steps share.
export async function networkFixture({}, { onCleanup }: FixtureHooks) {
  const network = await labNetwork();
  onCleanup(() => network[Symbol.asyncDispose]());
  return network;
}

export async function labNetwork(): Promise<{ name: string; id: string } & AsyncDisposable> {
  const docker = await dockerApi();
  const name = nameForRun(`labs-net-${randomBytes(3).toString("hex")}`);
  const network = await docker.createNetwork({ Name: name, Labels: runLabels(), CheckDuplicate: true });
  return { name, id: network.id, [Symbol.asyncDispose]: () => network.remove().catch(unlessEngineLost) };
}
