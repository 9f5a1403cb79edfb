// Run only by specs/reliability/exit-reasons.spec.ts (vitest project "probes"): two things the run's audit must catch.
import { expect, it } from "vitest";
import { createRawContainer } from "../../../helpers/lab/containers.ts";
import { labImage } from "../../../helpers/lab/images.ts";

it("publishes a port on every interface, as the book's -p does", async () => {
  await using container = await createRawContainer({
    Image: labImage("nginx:1.18").ref,
    ExposedPorts: { "80/tcp": {} },
    HostConfig: { PortBindings: { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "" }] } },
  });
  await container.start();
  expect((await container.inspect()).State.Running).toBe(true);
});

it("forgets to remove a container", async () => {
  const container = await createRawContainer({ Image: labImage("debian:bullseye").ref, Cmd: ["sleep", "infinity"] });
  await container.start();
  expect((await container.inspect()).State.Running).toBe(true);
});
