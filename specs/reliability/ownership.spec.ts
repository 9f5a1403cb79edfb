import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { dockerApi, type Docker } from "../../helpers/engine/client.ts";
import { RUN_LINE } from "../../helpers/run/identity.ts";
import { engineLeftovers, guardianPid, startChild, vitestCommand } from "../../helpers/child-runs/child.ts";

const BASE = "labs-stand-in/debian:bullseye";

async function runToEnd(docker: Docker, image: string, cmd: string[], binds: string[] = []): Promise<string> {
  const container = await docker.createContainer({ Image: image, Cmd: cmd, Tty: true, HostConfig: { Binds: binds } });
  await container.start();
  await container.wait();
  const output = (await container.logs({ stdout: true, stderr: true })).toString("latin1");
  await container.remove();
  return output.replaceAll("\r", "").trim();
}

// What someone else does on the same engine while the labs run: a database volume with data, an empty named
// volume, the anonymous volume a container removed without -v leaves, a container, a network and an image.
async function foreignWork(docker: Docker, tag: string) {
  const [data, empty] = [`user-pgdata-${tag}`, `user-empty-${tag}`];
  await docker.createVolume({ Name: data });
  await docker.createVolume({ Name: empty });
  const checksum = await runToEnd(
    docker,
    BASE,
    ["sh", "-c", "head -c 65536 /dev/urandom > /data/blob && sha256sum /data/blob"],
    [`${data}:/data`],
  );
  const anonymous = await docker.createContainer({ Image: BASE, Cmd: ["true"], Volumes: { "/scratch": {} } });
  const anonymousVolume = (await anonymous.inspect()).Mounts.find(
    ({ Destination }) => Destination === "/scratch",
  )!.Name!;
  await anonymous.remove();
  const container = await docker.createContainer({ Image: BASE, Cmd: ["sleep", "infinity"], name: `user-app-${tag}` });
  await container.start();
  const network = await docker.createNetwork({ Name: `user-net-${tag}` });
  const committed = (await container.commit({ repo: `user-image-${tag}`, tag: "1" })) as { Id: string };
  return { data, empty, checksum, anonymousVolume, container, network, image: committed.Id };
}

describe("A run touches only what it created", { timeout: 240_000 }, () => {
  it("another process's volumes (with data), container, network and image survive the run, its audit, its guardian and the next run's sweep", async () => {
    const docker = await dockerApi();
    const tag = randomBytes(3).toString("hex");
    const child = startChild(
      vitestCommand("--project", "labs", "specs/lab-3-2-1-images.spec.ts", "specs/lab-3-1-mysql.spec.ts"),
    );
    const runId = (await child.waitFor(RUN_LINE))[1]!;
    const foreign = await foreignWork(docker, tag);
    try {
      expect((await child.exited).code, child.output().slice(-3000)).toBe(0);
      await expect.poll(() => guardianPid(runId), { timeout: 60_000 }).toBe(0);
      const next = startChild(vitestCommand("--project", "labs", "specs/lab-3-3-nginx.spec.ts"));
      expect((await next.exited).code, next.output().slice(-3000)).toBe(0);

      const volumes = ((await docker.listVolumes()).Volumes ?? []).map(({ Name }) => Name);
      expect(volumes).toEqual(expect.arrayContaining([foreign.data, foreign.empty, foreign.anonymousVolume]));
      expect(await runToEnd(docker, BASE, ["sha256sum", "/data/blob"], [`${foreign.data}:/data`])).toBe(
        foreign.checksum,
      );
      expect(await runToEnd(docker, BASE, ["ls", "-A", "/data"], [`${foreign.empty}:/data`])).toBe("");
      expect((await foreign.container.inspect()).State.Running).toBe(true);
      expect((await foreign.network.inspect()).Name).toBe(`user-net-${tag}`);
      expect((await docker.getImage(foreign.image).inspect()).RepoTags).toEqual([`user-image-${tag}:1`]);
      expect(await engineLeftovers(runId)).toEqual([]);
    } finally {
      await foreign.container.remove({ force: true });
      await foreign.network.remove();
      await docker.getImage(foreign.image).remove();
      for (const volume of [foreign.data, foreign.empty, foreign.anonymousVolume])
        await docker.getVolume(volume).remove();
    }
  });
});
