import { readdir, readFile } from "node:fs/promises";

// The Debian archive comes from the machine's own apt sources so that no host name is written into the project.
export async function debianArchive(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.LABS_DEBIAN_MIRROR) return env.LABS_DEBIAN_MIRROR;
  const dir = "/etc/apt/sources.list.d";
  const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => /\.(sources|list)$/.test(name));
  for (const file of [...files.map((name) => `${dir}/${name}`), "/etc/apt/sources.list"]) {
    const text = await readFile(file, "utf8").catch(() => "");
    const uris = [...text.matchAll(/^URIs:\s*(\S+)/gm), ...text.matchAll(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)];
    // Only a Debian archive will do: an Ubuntu runner's sources name Ubuntu's, which has no bullseye.
    const archive = uris
      .map((match) => match[1]!)
      .find((uri) => /^https?:\/\/[^ ]*\/debian\/?$/.test(uri) && !uri.includes("security"));
    if (archive) return archive;
  }
  // debootstrap knows the Debian archive for Debian suites on its own.
  return undefined;
}
