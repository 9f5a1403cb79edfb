export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = "docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,}$/;

function isRegistryHost(component: string): boolean {
  return component.includes(".") || component.includes(":") || component === "localhost";
}

export function parseReference(input: string): ImageReference {
  const fail = (why: string): never => {
    throw new Error(`invalid image reference "${input}": ${why}`);
  };
  let rest = input.trim();
  if (rest === "") fail("it is empty");

  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`"${digest}" is not a digest (algorithm:hex)`);
  }

  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) fail(`"${tag}" is not a valid tag`);
  }

  const components = rest.split("/");
  const first = components[0] ?? "";
  const registry = components.length > 1 && isRegistryHost(first) ? first : DOCKER_HUB;
  if (registry !== DOCKER_HUB || first === DOCKER_HUB) components.shift();
  if (registry === DOCKER_HUB && components.length === 1) components.unshift("library");
  for (const component of components) {
    if (!COMPONENT.test(component)) fail(`"${component}" is not a valid repository name component`);
  }

  return { registry, repository: components.join("/"), tag: tag ?? (digest ? undefined : "latest"), digest };
}

export function formatReference({ registry, repository, tag, digest }: ImageReference): string {
  return `${registry}/${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
}

export function normalizeReference(input: string): string {
  return formatReference(parseReference(input));
}
