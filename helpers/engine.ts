import { Agent, request } from "undici";

export interface Engine {
  endpoint: string;
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

const DEFAULT_SOCKET = "unix:///var/run/docker.sock";

export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || DEFAULT_SOCKET;
}

function dispatcherFor(endpoint: string): { origin: string; dispatcher: Agent } {
  if (endpoint.startsWith("unix://")) {
    return {
      origin: "http://localhost",
      dispatcher: new Agent({ connect: { socketPath: endpoint.slice("unix://".length) } }),
    };
  }
  if (endpoint.startsWith("tcp://")) {
    return { origin: `http://${endpoint.slice("tcp://".length)}`, dispatcher: new Agent() };
  }
  throw new Error(`DOCKER_HOST=${endpoint} is not supported here: use unix:///path/to/docker.sock or tcp://host:port`);
}

function reasonOf(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: string }).code;
  if (code === "ENOENT") return "no socket there";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "EACCES") return "permission denied on the socket";
  if (cause instanceof Error && cause.name === "TimeoutError") return "no answer in time";
  return cause instanceof Error ? cause.message : String(cause);
}

export async function probeEngine(timeoutMs = 5_000, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const endpoint = engineEndpoint(env);
  const { origin, dispatcher } = dispatcherFor(endpoint);
  try {
    const response = await request(`${origin}/version`, { dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode} from /version`);
    const body = (await response.body.json()) as { Version: string; ApiVersion: string; Os: string; Arch: string };
    return { endpoint, version: body.Version, apiVersion: body.ApiVersion, os: body.Os, arch: body.Arch };
  } catch (error) {
    const where = env.DOCKER_HOST ? `DOCKER_HOST=${endpoint}` : `${endpoint} (DOCKER_HOST is not set)`;
    throw new Error(
      `No Docker engine answered at ${where}: ${reasonOf(error)}. ` +
        "Start one (Docker Desktop, `colima start`, or `sudo dockerd &` on Linux) or point DOCKER_HOST at a running engine.",
      { cause: error },
    );
  } finally {
    await dispatcher.close();
  }
}
