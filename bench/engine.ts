// The Docker engine's HTTP API, spoken directly over its socket (or DOCKER_HOST's TCP address): the benchmark follows
// event and log streams for the whole run, which the docker CLI would need a long-lived child process for each.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";

// Where the engine is, found as the suite finds it: named in the error when none answers.
export const ENGINE_ADDRESS = process.env.DOCKER_HOST || "unix:///var/run/docker.sock";

interface Endpoint {
  socketPath?: string;
  host?: string;
  port?: number;
}

function endpointOf(value: string): Endpoint {
  if (value.startsWith("unix://")) return { socketPath: value.slice("unix://".length) };
  const url = new URL(value.replace(/^tcp:/, "http:"));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

const ENGINE = endpointOf(ENGINE_ADDRESS);

export function engineRequest(path: string, method = "GET"): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options: RequestOptions = { ...ENGINE, path, method, headers: { host: "docker" } };
    const req = httpRequest(options, resolve);
    req.on("error", reject);
    req.end();
  });
}

// The body of a GET as JSON; undefined for anything but 200 (a container or image already gone).
export async function engineJson<T>(path: string): Promise<T | undefined> {
  const response = await engineRequest(path);
  let body = "";
  for await (const chunk of response) body += chunk;
  return response.statusCode === 200 ? (JSON.parse(body) as T) : undefined;
}
