import type { RunResult } from "../child-runs/results.ts";
import type { OfficialMirror } from "./official-mirror.ts";

// What a run through the mirror must show to count as the official path: each image fetched from the mirror by its
// tag (not found locally), and named in the report by the reference it ran under, the very digest the mirror holds,
// and the stand-in label it carried through the registry.
export async function officialPathProblems(mirror: OfficialMirror, output: string, run: RunResult): Promise<string[]> {
  const served = new Set(await mirror.manifestsServed());
  const images = [...new Set(run.files.flatMap(({ images }) => images))];
  const problems: string[] = [];
  for (const { official, repository, tag, digest } of mirror.copies) {
    const ref = mirror.imageMap[official] ?? official;
    if (!output.includes(`images: pulling ${ref}`)) problems.push(`the run did not pull ${ref}: it had a local copy`);
    if (!served.has(`${repository}:${tag}`)) problems.push(`the mirror never served ${repository}:${tag} by its tag`);
    const shown = images.find((image) => image.startsWith(`${official} -> ${ref} (`));
    if (!shown) problems.push(`the report names no image line for ${official} run as ${ref}`);
    else if (!shown.includes(`, digest ${digest})`)) problems.push(`the report shows ${official} without ${digest}`);
    else if (!shown.endsWith(`stand-in for ${official}`) && !shown.includes(`stand-in for ${official},`))
      problems.push(`the report does not show the stand-in label of ${official}: ${shown}`);
  }
  return problems;
}
