import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createConnection, type RowDataPacket } from "mysql2/promise";
import type { StartedMySqlContainer } from "@testcontainers/mysql";
import { Wait, type StartedTestContainer } from "testcontainers";
import { request } from "undici";
import { describe, expect, test } from "vitest";
import { buildImage, disposableName, instructionsOf, labImage, numberedSteps } from "../helpers/lab/images.ts";
import { buildContainers, printedStepImages, watchBuild, type BuiltImage } from "../helpers/lab/images.ts";
import { createRawContainer, LabContainer, labelInstruction, labMySql } from "../helpers/lab/containers.ts";
import { nameForRun, runLabels, startForFile } from "../helpers/lab/containers.ts";
import { labCompose } from "../helpers/lab/compose.ts";
import { networkFixture } from "../helpers/lab/network.ts";
import { startEarly } from "../helpers/lab/start-early.ts";
import { dockerApi, layerOutcomes, pullImage, push, type Docker } from "../helpers/lab/engine.ts";
import { registryGet, runRegistry, seededBase } from "../helpers/lab/registry.ts";
import { newSecret } from "../helpers/lab/secrets.ts";

const python = labImage("python:3.9-slim-bullseye");
const mysqlImage = labImage("mysql:5.7");
// Its own namespace in the run's registry, apart from Lab 3.2.1's.
const user = nameForRun("dev");
const appRef = `${user}/visits:1.0`;
const registry = runRegistry();
const dbPassword = newSecret();
const composePassword = newSecret();
const APP = join(import.meta.dirname, "apps", "visits");
const appSource = () => readFile(join(APP, "app.py"), "utf8");
const DOCKERFILE = `FROM ${python.ref}
WORKDIR /app
COPY app.py .
ENV PORT=8000
EXPOSE 8000
CMD ["python3", "app.py"]`;

const lab = test
  .extend("image", { scope: "file" }, async ({}, { onCleanup }): Promise<BuiltImage> => {
    const image = await buildImage(appRef, DOCKERFILE, { "app.py": await appSource() });
    onCleanup(() => image[Symbol.asyncDispose]());
    return image;
  })
  .extend("network", { scope: "file" }, networkFixture)
  // MySQL initialises while the first steps build the app.
  .extend("dbStart", { scope: "file", auto: true }, async ({ network }, hooks) =>
    startEarly(
      labMySql(mysqlImage.ref)
        .withNetworkMode(network.name)
        .withNetworkAliases("db")
        .withDatabase("visits")
        .withUsername("app")
        .withUserPassword(dbPassword)
        .withRootPassword(newSecret()),
      hooks,
    ),
  )
  .extend("db", { scope: "file" }, ({ dbStart }) => dbStart.started)
  .extend("app", { scope: "file" }, async ({ image, network, db }, hooks) =>
    startForFile(
      new LabContainer(image.ref)
        .withName(nameForRun("visits"))
        .withNetworkMode(network.name)
        .withEnvironment({ DB_HOST: "db", DB_USER: "app", DB_PASSWORD: dbPassword, DB_NAME: db.getDatabase() })
        .withExposedPorts(8000)
        .withWaitStrategy(Wait.forLogMessage(/visits listening on/)),
      hooks,
    ),
  );

async function getJson(app: StartedTestContainer, path: string) {
  const response = await request(`http://${app.getHost()}:${app.getMappedPort(8000)}${path}`);
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

const connectAsApp = (db: StartedMySqlContainer) =>
  createConnection({ host: db.getHost(), port: db.getPort(), user: "app", password: dbPassword, database: "visits" });

// MySQL's own answer to whoever asks it: the app's /db must repeat it.
async function serverFacts(db: StartedMySqlContainer) {
  await using connection = await connectAsApp(db);
  const [[facts]] = await connection.query<RowDataPacket[]>("SELECT @@hostname AS hostname, VERSION() AS version");
  return facts!;
}

const statusOf = (answer: Promise<unknown>) =>
  answer.then(
    () => 200,
    (error: { statusCode?: number }) => error.statusCode,
  );

// The containers and networks this lab made, by name: what `docker compose down` may and may not remove.
async function labResources(docker: Docker) {
  const filters = JSON.stringify({ label: Object.entries(runLabels()).map(([key, value]) => `${key}=${value}`) });
  const containers = (await docker.listContainers({ all: true, filters })).map(({ Names }) => Names[0]!.slice(1));
  const networks = (await docker.listNetworks({ filters })).map(({ Name }) => Name);
  return { containers: containers.sort(), networks: networks.sort() };
}

describe("Section 3.1.2: the development flow", { timeout: 180_000 }, () => {
  lab(
    "docker build -t <user>/visits:1.0 . (app code + Dockerfile on a lab base image)",
    async ({ image, annotate }) => {
      const docker = await dockerApi();
      const info = await docker.getImage(image.ref).inspect();
      const base = await docker.getImage(python.ref).inspect();
      expect(info.Config.Cmd).toEqual(["python3", "app.py"]);
      expect(info.Config.ExposedPorts).toEqual({ "8000/tcp": {} });
      expect(info.Config.WorkingDir).toBe("/app");
      expect(info.RootFS.Layers?.slice(0, base.RootFS.Layers?.length)).toEqual(base.RootFS.Layers);
      const history: { CreatedBy: string }[] = await docker.getImage(image.ref).history();
      expect(history.some(({ CreatedBy }) => /COPY .*app\.py|COPY file:/.test(CreatedBy))).toBe(true);
      const instructions = instructionsOf(image.dockerfile);
      expect(numberedSteps(image.output)).toEqual(
        instructions.map((instruction, index) => ({ number: index + 1, of: instructions.length, instruction })),
      );
      await annotate(
        `${image.ref} (${image.id.slice(7, 19)}) on ${python.ref}, ${info.RootFS.Layers?.length} layers; ` +
          `the build showed steps 1/${instructions.length} to ${instructions.length}/${instructions.length}, one per instruction`,
      );
    },
  );

  lab(
    "docker build -t <user>/visits:broken . (a RUN that fails: its step, command and error)",
    async ({ annotate, onTestFinished }) => {
      const docker = await dockerApi();
      // Early, so that each step image and step container the build makes carries it, and nothing else does.
      const build = { "labs.build": randomBytes(6).toString("hex") };
      const label = Object.entries(build).map(([key, value]) => `${key}=${value}`);
      const listed = { all: true, filters: JSON.stringify({ label }) };
      // Removing a step image removes the untagged ones it was built on: the last step's image takes the rest along.
      const removeStepImages = async () => {
        const images = await docker.listImages(listed);
        for (const { Id } of images.filter(({ Id }) => !images.some(({ ParentId }) => ParentId === Id))) {
          await docker
            .getImage(Id)
            .remove()
            .catch((error: { statusCode?: number }) => {
              if (error.statusCode !== 404) throw error;
            });
        }
      };
      onTestFinished(removeStepImages);
      const command = 'python3 -c "import flask"';
      const dockerfile = [
        `FROM ${python.ref}`,
        labelInstruction(build),
        "WORKDIR /app",
        "COPY app.py .",
        `RUN ${command}`,
        'CMD ["python3", "app.py"]',
      ].join("\n");
      const ref = `${user}/visits:broken`;
      const run = await watchBuild(ref, dockerfile, { "app.py": await appSource() });
      const instructions = instructionsOf(dockerfile);
      const failing = { number: instructions.indexOf(`RUN ${command}`) + 1, of: instructions.length };
      expect(numberedSteps(run.lines).at(-1)).toEqual({ ...failing, instruction: `RUN ${command}` });
      expect(run.error).toContain(command);
      const stepLine = run.lines.findLastIndex((line) => line.endsWith(`RUN ${command}`));
      expect(run.lines.slice(stepLine + 1)).toContain("ModuleNotFoundError: No module named 'flask'");
      expect(await statusOf(docker.getImage(ref).inspect())).toBe(404);

      const printed = printedStepImages(run.lines);
      const kept = (await docker.listImages(listed)).map(({ Id }) => Id.replace("sha256:", ""));
      const dangling = await docker.listImages({ filters: JSON.stringify({ label, dangling: ["true"] }) });
      expect(kept.filter((id) => !printed.some((short) => id.startsWith(short)))).toEqual([]);
      // The builder's step containers run on the build's step images, and the classic builder's carry its label.
      const stepContainers = async () =>
        (await buildContainers(docker)).filter(
          ({ ImageID, Labels }) => kept.includes(ImageID) || Labels["labs.build"] === build["labs.build"],
        );
      await expect.poll(stepContainers).toEqual([]);
      await removeStepImages();
      expect(await docker.listImages(listed)).toEqual([]);
      await annotate(
        `failed at step ${failing.number}/${failing.of} RUN ${command}: "${run.error}", after its output ` +
          `"ModuleNotFoundError: No module named 'flask'"; no step container left (--force-rm); the builder kept ` +
          `${kept.length} step images of it (${dangling.length} dangling), all removed`,
      );
    },
  );

  lab("docker network create + docker run db + docker run app", async ({ app, db, network, annotate }) => {
    const docker = await dockerApi();
    const networksOf = async (id: string) =>
      Object.keys((await docker.getContainer(id).inspect()).NetworkSettings.Networks);
    expect(await networksOf(app.getId())).toContain(network.name);
    expect(await networksOf(db.getId())).toContain(network.name);
    const { hostname, version } = await serverFacts(db);
    expect(hostname).toBe((await docker.getContainer(db.getId()).inspect()).Config.Hostname);
    expect(await getJson(app, "/db"), "the app's /db: what MySQL answered it").toEqual({
      status: 200,
      body: { db_host: "db", hostname, version },
    });
    await annotate(
      `app and db share the user-defined network ${network.name}; the app, given DB_HOST=db, answers /db ` +
        `with MySQL's own @@hostname ${hostname} and VERSION() ${version}`,
    );
  });

  lab(
    "docker compose up -d (docker-compose.yml: app + db, the app after db is healthy)",
    async ({ image, annotate }) => {
      const docker = await dockerApi();
      await using compose = await labCompose(join(APP, "docker-compose.yml"), {
        APP_IMAGE: image.ref,
        MYSQL_IMAGE: mysqlImage.ref,
        DB_PASSWORD: composePassword,
        DB_ROOT_PASSWORD: newSecret(),
      });
      const { project } = compose;
      const network = `${project}_visits`;
      await using others = new AsyncDisposableStack();
      // Another project's container and network, named and labelled like this one's: `down` must leave them.
      const other = `${project}-other`;
      const otherLabels = { ...runLabels(), "com.docker.compose.project": other };
      const otherNetwork = await docker.createNetwork({ Name: `${other}_visits`, Labels: otherLabels });
      others.defer(() => otherNetwork.remove());
      others.use(
        await createRawContainer({
          name: `${other}-db-1`,
          Image: python.ref,
          Labels: { ...otherLabels, "com.docker.compose.service": "db" },
          HostConfig: { NetworkMode: `${other}_visits` },
        }),
      );

      await using starts = await compose.followStarts();
      const up = await compose.environment
        .withWaitStrategy("app-1", Wait.forLogMessage(/visits listening on/))
        .up()
        .then(
          (started) => ({ started, error: undefined }),
          (error: Error) => ({ started: undefined, error: error.message.trim().split("\n").at(-1) }),
        );
      // `docker compose down` is a step of its own below; on a failure before it, leaving the block runs it.
      await using running = new AsyncDisposableStack();
      const started = up.started && running.use(up.started);
      // As one string, so that a failure shows the whole order the engine saw. Polled: where the engine names a
      // check's result only in the next check's event (Podman 4.3), the db's last check before the app's start is
      // known one interval later.
      const order = "db start, db health_status: healthy, app start";
      await expect
        .poll(() => starts.seen.join(", "), { message: `docker compose up: ${up.error ?? "done"}`, timeout: 20_000 })
        .toBe(order);

      const app = started!.getContainer("app-1");
      const db = await docker.getContainer(started!.getContainer("db-1").getId()).inspect();
      const networksOf = async (id: string) =>
        Object.keys((await docker.getContainer(id).inspect()).NetworkSettings.Networks);
      expect(await networksOf(app.getId())).toEqual([network]);
      expect(await networksOf(db.Id)).toEqual([network]);
      expect(await getJson(app, "/db"), "the app's /db: what MySQL answered it").toMatchObject({
        status: 200,
        body: { db_host: "db", hostname: db.Config.Hostname },
      });
      const ps = await compose.ps();
      expect(ps.map(({ Service, State, Health }) => ({ Service, State, Health }))).toEqual([
        { Service: "app", State: "running", Health: "" },
        { Service: "db", State: "running", Health: "healthy" },
      ]);
      await annotate(
        `${compose.plugin}, project ${project}: ${order}; both on ${network} only; the app's /db ` +
          `answered by MySQL as "db" (${db.Config.Hostname}); docker compose ps: app running, db running (healthy)`,
      );

      const ours = ps.map(({ Name }) => Name);
      const before = await labResources(docker);
      expect(before.containers).toEqual(expect.arrayContaining([...ours, `${other}-db-1`]));
      expect(before.networks).toEqual(expect.arrayContaining([network, `${other}_visits`]));
      const volumes = db.Mounts.flatMap(({ Type, Name }) => (Type === "volume" && Name ? [Name] : []));
      await running.disposeAsync();
      expect(await labResources(docker)).toEqual({
        containers: before.containers.filter((name) => !ours.includes(name)),
        networks: before.networks.filter((name) => name !== network),
      });
      for (const volume of volumes) expect(await statusOf(docker.getVolume(volume).inspect())).toBe(404);
      await annotate(
        `docker compose down: removed ${ours.join(", ")}, ${network} and ${volumes.length} anonymous volume(s); ` +
          `${other}'s container and network stayed`,
      );
    },
  );

  lab("curl http://localhost:<port>/visits", async ({ app, db, annotate }) => {
    await using connection = await connectAsApp(db);
    const [tables] = await connection.query<RowDataPacket[]>("SHOW TABLES");
    expect(
      tables.map((row) => Object.values(row)[0]),
      "the app's tables in MySQL",
    ).toContain("visits");
    const rows = async () =>
      (await connection.query<RowDataPacket[]>("SELECT id FROM visits ORDER BY id"))[0].map(({ id }) => id as number);
    const before = await rows();
    const first = await getJson(app, "/visits");
    const second = await getJson(app, "/visits");
    expect(first).toMatchObject({ status: 200, body: { visits: before.length + 1 } });
    expect(second).toMatchObject({ status: 200, body: { visits: before.length + 2 } });
    expect(await rows()).toEqual([...before, first.body.id, second.body.id]);
    expect((await getJson(app, "/nowhere")).status).toBe(404);
    await annotate(
      `two requests, two new rows in MySQL with the ids the app answered (${first.body.id}, ${second.body.id})`,
    );
  });

  lab("docker push <registry>/<user>/visits:1.0", async ({ image, annotate }) => {
    const docker = await dockerApi();
    const account = registry.users.visits;
    const repository = `${registry.address}/${user}/visits`;
    await docker.getImage(image.ref).tag({ repo: repository, tag: "1.0" });
    await using remote = await disposableName(`${repository}:1.0`);
    await seededBase(account);
    const pushed = await push(remote.ref, account);
    const { body } = await registryGet("/v2/_catalog", account);
    const repositories = (body as { repositories: string[] }).repositories;
    expect(repositories.filter((name) => name.startsWith(`${user}/`))).toEqual([`${user}/visits`]);
    await docker.getImage(remote.ref).remove();
    expect(await pullImage(remote.ref, account)).toBe(pushed.digest);
    await annotate(`pushed ${remote.ref} as ${pushed.digest} (${layerOutcomes(pushed)})`);
  });
});
