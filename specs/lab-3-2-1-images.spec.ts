import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { LabContainer, labelInstruction, nameForRun } from "../helpers/lab/containers.ts";
import {
  canonicalDigestRef,
  dockerApi,
  dockerCli,
  labEngine,
  layerOutcomes,
  pullImage,
  push,
  servedDigest,
} from "../helpers/lab/engine.ts";
import { notApplicableOn } from "../helpers/lab/applicability.ts";
import { savedImageConfig } from "../helpers/lab/image-config.ts";
import { buildImage, disposableName, labImage, normalizeReference } from "../helpers/lab/images.ts";
import {
  clientConfig,
  clientCredentials,
  dockerLogin,
  dockerLogout,
  loggedInTo,
  type ClientConfig,
} from "../helpers/lab/docker-login.ts";
import { registryGet, runRegistry, seededBase } from "../helpers/lab/registry.ts";
import { indexAddress, searchIndex } from "../helpers/lab/search-index.ts";
import { newSecret } from "../helpers/lab/secrets.ts";
import { startEarly } from "../helpers/lab/start-early.ts";

const debian = labImage("debian:bullseye");
const httpd = labImage("httpd:2.4");
const user = nameForRun("labs");
const registry = runRegistry();
const REFUSED = /unauthorized|authentication required|no basic auth credentials/i;
// How the engine says it could not reach an index at all (Docker Hub from a machine without internet).
const UNREACHABLE =
  /dial tcp|no such host|i\/o timeout|network is unreachable|connection refused|proxyconnect|TLS handshake timeout/;
// Instructions that only set the image's config: their history entries never add a layer.
const CONFIG_ONLY = new Set(
  "CMD ENTRYPOINT ENV EXPOSE LABEL STOPSIGNAL USER VOLUME ARG ONBUILD HEALTHCHECK SHELL MAINTAINER".split(" "),
);

const sleeper = (ref: string) => new LabContainer(ref).withCommand(["sleep", "infinity"]);

const lab = test
  .extend("one", { scope: "file", auto: true }, async ({}, hooks) => startEarly(sleeper(debian.ref), hooks))
  .extend("two", { scope: "file", auto: true }, async ({}, hooks) => startEarly(sleeper(debian.ref), hooks))
  .extend("toCommit", { scope: "file", auto: true }, async ({}, hooks) => startEarly(sleeper(debian.ref), hooks))
  .extend("index", { scope: "file", auto: true }, async ({}, hooks) => startEarly(searchIndex(), hooks));

interface HistoryEntry {
  CreatedBy: string;
  Comment: string;
  Size: number;
}

// `/bin/sh -c #(nop)  CMD [...]` (classic builder), `CMD [...]` (BuildKit), `/bin/sh -c …` (a classic RUN);
// "" for a base image's root file system (ADD, docker import, debuerreotype).
function instructionOf(createdBy: string): string {
  const named = createdBy.match(/^\/bin\/sh -c #\(nop\)\s+([A-Z]+)\b/) ?? createdBy.match(/^([A-Z]+) /);
  if (named) return named[1]!;
  return /^(\|\d+ .*)?\/bin\/sh -c /.test(createdBy) ? "RUN" : "";
}

interface Found {
  name: string;
  description: string;
  official: boolean;
}

// `docker search`'s rows, with the OFFICIAL column's mark as the CLI prints it: the engine asks the index for --limit
// results and applies --filter itself.
async function dockerSearch(config: ClientConfig, term: string, ...options: string[]): Promise<Found[]> {
  const format = "{{.Name}}\t{{.IsOfficial}}\t{{.Description}}";
  const { stdout } = await dockerCli(["search", "--no-trunc", "--format", format, ...options, term], config.env);
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((row) => {
      const [name, mark, ...description] = row.split("\t");
      return { name: name!, description: description.join("\t"), official: mark === "[OK]" };
    });
}

const daemonSaid = (error: Error) => error.message.replace(/^.*?Error response from daemon: /s, "");
const byName = (found: Found[]) => found.toSorted((a, b) => a.name.localeCompare(b.name));

// Go's %q of a string list, as both builders print CMD.
const quotedList = (list: string[]) => `[${list.map((item) => JSON.stringify(item)).join(" ")}]`;

describe("Lab 3.2.1: image commands", { timeout: 180_000 }, () => {
  lab("docker pull debian", async ({ annotate }) => {
    expect(normalizeReference("debian")).toBe("docker.io/library/debian:latest");
    const docker = await dockerApi();
    const { address, users, base } = registry;
    // The run's setup asked the registry debian names, and seeded the run's registry only where none served it.
    if (!base) {
      const served = await servedDigest(debian.ref);
      const pulled = await pullImage(debian.ref);
      const { RepoDigests, Id } = await docker.getImage(debian.ref).inspect();
      expect(pulled).toBe(served);
      expect(RepoDigests.map((entry) => canonicalDigestRef(entry))).toContain(canonicalDigestRef(debian.ref, pulled));
      expect(Id).toBe(debian.id);
      await annotate(`pulled ${debian.ref} from the registry it names: ${pulled}`);
      return;
    }
    const remoteRef = await seededBase(users.pull);
    expect(remoteRef).toBe(`${address}/library/debian:latest`);
    const pulled = await pullImage(remoteRef!, users.pull);
    await using remote = await disposableName(remoteRef!);
    const manifest = await registryGet("/v2/library/debian/manifests/latest", users.pull);
    const { RepoDigests, Id } = await docker.getImage(remote.ref).inspect();
    expect(pulled).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(manifest.headers["docker-content-digest"]).toBe(pulled);
    expect(RepoDigests.map((entry) => canonicalDigestRef(entry))).toContain(canonicalDigestRef(remote.ref, pulled));
    expect(Id).toBe(debian.id);
    await annotate(
      `${debian.ref} is in no registry that answers for it; pulled through the run's registry, where the run's setup pushed it: ${pulled}`,
    );
  });

  lab("docker image ls", async ({ annotate }) => {
    const docker = await dockerApi();
    const [listed, ...more] = await docker.listImages({ filters: JSON.stringify({ reference: [debian.ref] }) });
    expect(more).toEqual([]);
    expect(listed!.RepoTags?.map(normalizeReference)).toContain(normalizeReference(debian.ref));
    expect(listed!.Id).toBe(debian.id);
    expect(listed!.Size).toBeGreaterThan(10_000_000);
    const tagAt = debian.ref.lastIndexOf(":");
    const [repository, tag] = [debian.ref.slice(0, tagAt), debian.ref.slice(tagAt + 1)];
    await annotate(`${repository}  ${tag}  ${debian.id.slice(7, 19)}  ${(listed!.Size / 1e6).toFixed(0)}MB`);
  });

  lab("docker image inspect httpd (and --format '{{.Os}}')", async ({ annotate }) => {
    const info = await (await dockerApi()).getImage(httpd.ref).inspect();
    const engine = labEngine();
    expect(info.Os).toBe("linux");
    // `docker pull httpd` names no platform, so the engine pulls its own: amd64 on the book's machine, arm64 on an M1.
    expect(info.Architecture).toBe(engine.arch);
    expect(info.Config.ExposedPorts).toEqual({ "80/tcp": {} });
    expect(info.Config.Cmd).toEqual(["httpd-foreground"]);
    const { stdout } = await dockerCli(["image", "inspect", "--format", "{{.Os}}", httpd.ref]);
    expect(stdout).toBe("linux\n");
    await annotate(
      `${httpd.ref}: ${info.Os}/${info.Architecture} on a ${engine.os}/${engine.arch} engine, EXPOSE 80/tcp, ` +
        `CMD httpd-foreground; docker image inspect --format '{{.Os}}' printed ${JSON.stringify(stdout)}`,
    );
  });

  lab("docker image history httpd", async ({ annotate }) => {
    const docker = await dockerApi();
    const { RootFS, Config } = await docker.getImage(httpd.ref).inspect();
    const layers = RootFS.Layers ?? [];
    const history = ((await docker.getImage(httpd.ref).history()) as HistoryEntry[]).toReversed();
    let addsLayer = history.map(({ Size }) => Size > 0);
    if (addsLayer.filter(Boolean).length !== layers.length) {
      // The classic store weighs a layer of directories or deletions only at 0 B; the image's config says which
      // entries made a layer.
      const configured = (await savedImageConfig(httpd.ref)).history ?? [];
      expect(configured.map(({ created_by }) => created_by ?? "")).toEqual(history.map(({ CreatedBy }) => CreatedBy));
      addsLayer = configured.map(({ empty_layer }) => !empty_layer);
    }
    const withLayer = history.filter((_, index) => addsLayer[index]);
    const createdBy = (instruction: string) =>
      history.map(({ CreatedBy }) => CreatedBy).filter((line) => instructionOf(line) === instruction);

    expect(withLayer, "history entries that add content, one per RootFS layer").toHaveLength(layers.length);
    expect(withLayer.filter(({ CreatedBy, Comment }) => !CreatedBy && !Comment)).toEqual([]);
    expect(withLayer.map(({ CreatedBy }) => CreatedBy).filter((line) => CONFIG_ONLY.has(instructionOf(line)))).toEqual(
      [],
    );
    expect(withLayer.at(-1)?.CreatedBy, "the top layer is httpd-foreground's").toMatch(
      /\bCOPY\b.* \/usr\/local\/bin\/?(\s|$)/,
    );
    expect(createdBy("CMD").at(-1)).toContain(`CMD ${quotedList(Config.Cmd ?? [])}`);
    for (const port of Object.keys(Config.ExposedPorts ?? {})) {
      const [number, protocol] = port.split("/");
      expect(createdBy("EXPOSE").join("\n")).toMatch(new RegExp(`EXPOSE .*\\b${number}(/${protocol})?\\b`));
    }
    for (const variable of Config.Env ?? []) expect(createdBy("ENV").join("\n")).toContain(variable);
    expect(Config.WorkingDir).not.toBe("");
    expect(createdBy("WORKDIR").at(-1)).toContain(`WORKDIR ${Config.WorkingDir}`);
    await annotate(
      `${history.length} history entries, ${layers.length} layers, made by: ` +
        withLayer.map(({ CreatedBy }) => instructionOf(CreatedBy) || "base root file system").join(", "),
    );
  });

  lab("union file system: shared base layers, one writable layer per container", async ({ one, two, annotate }) => {
    const docker = await dockerApi();
    const layersOf = async (ref: string) => (await docker.getImage(ref).inspect()).RootFS.Layers ?? [];
    const files = { "a.txt": "a\n", "b.txt": "b\n" };
    await using built = new AsyncDisposableStack();
    const [baseLayers, first, second] = await Promise.all([
      layersOf(debian.ref),
      buildImage(`${user}/union-a:1`, `FROM ${debian.ref}\nCOPY a.txt /`, files).then((name) => built.use(name)),
      buildImage(`${user}/union-b:1`, `FROM ${debian.ref}\nCOPY b.txt /`, files).then((name) => built.use(name)),
    ]);
    const [firstLayers, secondLayers] = await Promise.all([layersOf(first.ref), layersOf(second.ref)]);
    expect(firstLayers.slice(0, baseLayers.length)).toEqual(baseLayers);
    expect(secondLayers.slice(0, baseLayers.length)).toEqual(baseLayers);
    expect(firstLayers).toHaveLength(baseLayers.length + 1);
    expect(firstLayers.at(-1)).not.toBe(secondLayers.at(-1));

    const [writer, neighbour] = await Promise.all([one.started, two.started]);
    const changed = async (id: string) =>
      ((await docker.getContainer(id).changes()) ?? []).map(({ Path }: { Path: string }) => Path);
    expect(await writer.exec(["sh", "-c", "echo only-in-one > /scratch.txt"])).toMatchObject({ exitCode: 0 });
    expect(await writer.exec(["cat", "/scratch.txt"])).toMatchObject({ exitCode: 0, stdout: "only-in-one\n" });
    expect(await changed(writer.getId())).toContain("/scratch.txt");
    expect((await neighbour.exec(["cat", "/scratch.txt"])).exitCode).not.toBe(0);
    expect(await changed(neighbour.getId())).not.toContain("/scratch.txt");
    await using fresh = await sleeper(debian.ref).start();
    expect((await fresh.exec(["cat", "/scratch.txt"])).exitCode).not.toBe(0);
    const [listed] = await docker.listContainers({ all: true, size: true, filters: { id: [writer.getId()] } });
    const { SizeRw } = listed as { SizeRw?: number };
    expect(SizeRw).toBeGreaterThan(0);
    await annotate(
      `both images share ${baseLayers.length} base layer(s); /scratch.txt is in one container's writable layer ` +
        `(${SizeRw} B), not in the other's, nor in a fresh container of ${debian.ref}`,
    );
  });

  lab("docker image tag httpd:latest <user>/httpd:3.0", async () => {
    const docker = await dockerApi();
    await docker.getImage(httpd.ref).tag({ repo: `${user}/httpd`, tag: "3.0" });
    await using tagged = await disposableName(`${user}/httpd:3.0`);
    expect(tagged.id).toBe(httpd.id);
    expect((await docker.getImage(httpd.ref).inspect()).RepoTags.map(normalizeReference)).toContain(
      normalizeReference(tagged.ref),
    );
    await docker.getImage(tagged.ref).remove();
    await expect(docker.getImage(tagged.ref).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await docker.getImage(httpd.ref).inspect()).Id).toBe(httpd.id);
  });

  lab("docker commit <container> <user>/debian-note:1.0", async ({ toCommit, annotate }) => {
    const docker = await dockerApi();
    const container = await toCommit.started;
    expect(await container.exec(["sh", "-c", "echo committed-by-lab > /lab-note"])).toMatchObject({ exitCode: 0 });
    await docker.getContainer(container.getId()).commit({
      repo: `${user}/debian-note`,
      tag: "1.0",
      changes: [labelInstruction()],
    });
    await using committed = await disposableName(`${user}/debian-note:1.0`);
    const baseLayers = (await docker.getImage(debian.ref).inspect()).RootFS.Layers ?? [];
    const committedLayers = (await docker.getImage(committed.ref).inspect()).RootFS.Layers ?? [];
    expect(committedLayers).toHaveLength(baseLayers.length + 1);
    expect(committedLayers.slice(0, baseLayers.length)).toEqual(baseLayers);
    await using fresh = await sleeper(committed.ref).start();
    expect(await fresh.exec(["cat", "/lab-note"])).toMatchObject({ exitCode: 0, stdout: "committed-by-lab\n" });
    await annotate(`${committed.ref} has ${committedLayers.length} layers, one more than ${debian.ref}`);
  });

  lab("docker login / docker push / docker logout", async ({ annotate }) => {
    const docker = await dockerApi();
    const { address } = registry;
    const account = registry.users.login;
    const repository = `${address}/${user}/httpd`;
    await docker.getImage(httpd.ref).tag({ repo: repository, tag: "3.0" });
    await using local = await disposableName(`${repository}:3.0`);
    await using client = await clientConfig();
    const fromClient = () => clientCredentials(client, address);

    expect(await loggedInTo(client)).toEqual([]);
    await expect(push(local.ref, await fromClient()), "push before login").rejects.toThrow(REFUSED);
    await expect(
      dockerLogin(client, { ...account, password: newSecret() }),
      "login with a wrong password",
    ).rejects.toThrow(/401|unauthorized/i);
    expect(await loggedInTo(client)).toEqual([]);

    expect(await dockerLogin(client, account)).toContain("Login Succeeded");
    expect(await loggedInTo(client)).toEqual([address]);
    const stored = await fromClient();
    expect(stored?.username === account.username && stored.password === account.password, "the auths entry").toBe(true);

    const pushed = await push(local.ref, await fromClient());
    const { body: catalog } = await registryGet("/v2/_catalog", account);
    expect((catalog as { repositories: string[] }).repositories).toContain(`${user}/httpd`);
    expect((await registryGet("/v2/_catalog", null)).status).toBe(401);

    await docker.getImage(local.ref).remove();
    const pulled = await pullImage(local.ref, await fromClient());
    expect(pulled).toBe(pushed.digest);
    expect(
      (await docker.getImage(local.ref).inspect()).RepoDigests.map((entry) => canonicalDigestRef(entry)),
    ).toContain(canonicalDigestRef(local.ref, pulled));

    await dockerLogout(client, address);
    expect(await loggedInTo(client)).toEqual([]);
    await expect(push(local.ref, await fromClient()), "push after logout").rejects.toThrow(REFUSED);
    await annotate(
      `pushed and pulled ${repository}:3.0 as ${pushed.digest} (${layerOutcomes(pushed)}); refused before login, ` +
        `with a wrong password and after logout; config.json had an auths entry for ${address} from login to logout only`,
    );
  });

  lab("docker login, then docker search httpd (and --filter is-official=true)", async ({ index, annotate, skip }) => {
    const engine = labEngine();
    notApplicableOn(
      skip,
      engine.product === "Podman",
      `Podman ${engine.version}`,
      "Podman searches through containers/image, which asks a v1 search index without credentials and, refused, lists " +
        "the registry's v2 catalogue instead, names without descriptions or official marks (docker/docker_client.go " +
        "SearchRegistry); Podman 4's Docker-compatible search also drops the credentials the docker CLI sends " +
        "(pkg/api/handlers/compat/images_search.go) and fails on its --filter (runtime error: index out of range)",
    );
    await using client = await clientConfig();

    // Docker Hub's search asks for no login, and the run has no Docker Hub account: it is asked as it stands.
    const hub = await dockerSearch(client, "httpd").catch((error: Error) => {
      if (!UNREACHABLE.test(error.message)) throw error;
      return daemonSaid(error);
    });
    if (typeof hub === "string") {
      await annotate(`Docker Hub did not answer: the engine cannot reach it (${hub})`);
    } else {
      const listed = hub.find(({ name }) => name === "httpd");
      expect(listed, "Docker Hub lists the official httpd").toMatchObject({
        official: true,
        description: expect.stringMatching(/\S/),
      });
      const kept = await dockerSearch(client, "httpd", "--filter", "is-official=true");
      expect(kept.map(({ name }) => name)).toContain("httpd");
      expect(kept.filter(({ official }) => !official)).toEqual([]);
      expect(kept.length).toBeLessThan(hub.length);
      expect(await dockerSearch(client, "httpd", "--limit", "3")).toHaveLength(3);
      await annotate(
        `Docker Hub answered: httpd [OK] "${listed!.description}" among ${hub.length} repositories; ` +
          `--filter is-official=true kept ${kept.map(({ name }) => name).join(", ")}; --limit 3 gave 3`,
      );
    }

    // The run's own index, over two repositories this step pushes. Each image describes itself in a label; the index
    // lists an official repository, library/<name>, as <name> marked official, as Docker Hub does.
    const address = await indexAddress(await index.started);
    await using built = new AsyncDisposableStack();
    const pushAs = async (repository: string, listedAs: string, official: boolean): Promise<Found> => {
      const description = `${httpd.ref} pushed to ${registry.address}/${repository} by Lab 3.2.1`;
      const dockerfile = `FROM ${httpd.ref}\nLABEL org.opencontainers.image.description=${JSON.stringify(description)}`;
      const image = built.use(await buildImage(`${registry.address}/${repository}:latest`, dockerfile));
      await seededBase(registry.users.search);
      await push(image.ref, registry.users.search);
      return { name: listedAs, description, official };
    };
    const official = await pushAs("library/httpd", "httpd", true);
    const own = await pushAs(`${user}/httpd`, `${user}/httpd`, false);
    const search = (...options: string[]) => dockerSearch(client, `${address}/httpd`, ...options);

    const beforeLogin = await search().then(
      (found) => `answered ${found.map(({ name }) => name).join(", ") || "nothing"}`,
      (error: Error) => daemonSaid(error),
    );
    expect(beforeLogin, `docker search before docker login (${engine.product} ${engine.version})`).toMatch(
      /\b401\b|unauthorized/i,
    );
    const account = { ...registry.users.search, serveraddress: address };
    await expect(
      dockerLogin(client, { ...account, password: newSecret() }),
      "docker login with a wrong password",
    ).rejects.toThrow(/401|unauthorized/i);
    expect(await dockerLogin(client, account)).toContain("Login Succeeded");
    expect(await loggedInTo(client)).toEqual([address]);

    const found = await search().catch((error: Error) => {
      throw new Error(
        `${engine.product} ${engine.version} refused docker search ${address}/httpd after login: ${daemonSaid(error)}`,
      );
    });
    expect(byName(found)).toEqual(byName([official, own]));
    expect(await search("--filter", "is-official=true")).toEqual([official]);
    expect(await search("--limit", "1")).toHaveLength(1);
    const unmatched = `no-such-${randomBytes(4).toString("hex")}`;
    expect(await dockerSearch(client, `${address}/${unmatched}`)).toEqual([]);
    await annotate(
      `a v1 search index this run serves at ${address} over the run's registry — not Docker Hub: refused before ` +
        `login (${beforeLogin}); after docker login ${address} it found ` +
        found
          .map(({ name, description, official }) => `${name}${official ? " [OK]" : ""} "${description}"`)
          .join(", ") +
        `; --filter is-official=true kept ${official.name} only; nothing for ${unmatched}`,
    );
  });
});
