import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { DockerComposeEnvironment } from "testcontainers";
import { dockerCli } from "../engine/cli.ts";
import { dockerApi, endpointOf, productOf } from "../engine/client.ts";
import { composePlugin } from "../engine/compose-cli.ts";
import { publishAddress } from "../run/for-this-run.ts";
import { nameForRun, runLabels } from "./containers.ts";

export interface ComposeService {
  Name: string;
  Service: string;
  State: string;
  Health: string;
}

export interface LabCompose extends AsyncDisposable {
  project: string;
  // The plugin's version, and where the docker CLI found it.
  plugin: string;
  environment: DockerComposeEnvironment;
  // `docker compose ps --format json`, as the CLI lists the project's containers.
  ps(): Promise<ComposeService[]>;
  // The engine's start and health events of the project's containers from now on, as "<service> <event>".
  followStarts(): Promise<{ seen: string[] } & AsyncDisposable>;
}

// A compose file run as a project of the run's own, on the engine the run found: an override file (as
// `docker compose -f file -f override` reads it) gives each of its services and networks the run's labels, so that
// the audit and the guardian find them; `variables` are the file's ${…} (images, passwords), never printed.
export async function labCompose(file: string, variables: Record<string, string>): Promise<LabCompose> {
  const plugin = await composePlugin();
  const folder = await mkdtemp(join(tmpdir(), "labs-compose-"));
  const dispose = async () => {
    await rm(folder, { recursive: true, force: true });
    await plugin[Symbol.asyncDispose]();
  };
  try {
    const docker = await dockerApi();
    const env = {
      ...plugin.env,
      ...variables,
      DOCKER_HOST: endpointOf(docker),
      PUBLISH_ADDRESS: await publishAddress(),
    };
    const compose = async (args: string[]) => (await dockerCli(["compose", ...args], env)).stdout;
    const declared = JSON.parse(await compose(["-f", file, "config", "--no-interpolate", "--format", "json"])) as {
      services?: object;
      networks?: object;
    };
    const labels = runLabels();
    const labelled = (names = {}) => Object.fromEntries(Object.keys(names).map((name) => [name, { labels }]));
    const override = join(folder, "run-labels.json");
    await writeFile(
      override,
      JSON.stringify({ services: labelled(declared.services), networks: labelled(declared.networks) }),
    );
    const project = nameForRun(basename(dirname(file)));
    return {
      project,
      plugin: `Compose ${plugin.version} (${plugin.where})`,
      environment: new DockerComposeEnvironment(dirname(file), [file, override])
        .withProjectName(project)
        .withEnvironment(env),
      // One JSON object per line since Compose 2.21, one JSON array before.
      ps: async () =>
        (await compose(["-p", project, "-f", file, "-f", override, "ps", "--format", "json"]))
          .split("\n")
          .filter(Boolean)
          .flatMap((line) => JSON.parse(line) as ComposeService | ComposeService[])
          .sort((a, b) => a.Service.localeCompare(b.Service)),
      followStarts: () => followStarts(project),
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

export interface EngineEvent {
  Action: string;
  Actor: { Attributes: Record<string, string> };
  // Podman's compat events: a health_status event's status.
  HealthStatus?: string;
}

/**
 * Start and health events as "<service> start" and "<service> health_status: <status>", a status only where it
 * changed, as Docker reports them. Podman's compat events differ: the action is a bare "health_status" with the status
 * in HealthStatus, there is one for every check (containers/podman#24003), and before 4.7 it names the status the
 * container had before that check (containers/podman#19237, fixed by #19245): there a check's result is the status the
 * next check's event names, and the last check's is not known yet.
 */
export function startsAndHealth(events: EngineEvent[], healthLags: boolean): string[] {
  const serviceOf = (event: EngineEvent) => event.Actor.Attributes["com.docker.compose.service"];
  const last = new Map<string | undefined, string>();
  return events.flatMap((event, index) => {
    const service = serviceOf(event);
    if (event.Action !== "health_status") {
      if (event.Action === "start") last.set(service, "starting");
      return [`${service} ${event.Action}`];
    }
    const next = events
      .slice(index + 1)
      .find((later) => later.Action === "health_status" && serviceOf(later) === service);
    const status = healthLags ? next?.HealthStatus : event.HealthStatus;
    if (status === undefined || status === last.get(service)) return [];
    last.set(service, status);
    return [`${service} health_status: ${status}`];
  });
}

// Followed live, not asked for afterwards with `since`: the engine keeps only its last 256 events, and a
// healthcheck alone makes three a second.
async function followStarts(project: string): Promise<{ seen: string[] } & AsyncDisposable> {
  const filters = {
    type: ["container" as const],
    event: ["start", "health_status"],
    label: [`com.docker.compose.project=${project}`],
  };
  const docker = await dockerApi();
  const version = await docker.version();
  const [major = 0, minor = 0] = version.Version.split(".").map(Number);
  const healthLags = productOf(version) === "Podman" && (major < 4 || (major === 4 && minor < 7));
  const stream = (await docker.getEvents({ filters })) as NodeJS.ReadableStream & { destroy(): void };
  const events: EngineEvent[] = [];
  let pending = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop()!;
    for (const line of lines.filter(Boolean)) events.push(JSON.parse(line) as EngineEvent);
  });
  return {
    get seen() {
      return startsAndHealth(events, healthLags);
    },
    [Symbol.asyncDispose]: async () => stream.destroy(),
  };
}
