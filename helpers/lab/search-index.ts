import { readFileSync } from "node:fs";
import { Wait, type StartedTestContainer } from "testcontainers";
import { STAND_IN_LABELS } from "../catalogue/entries.ts";
import { MANIFEST_TYPES } from "../registry/api.ts";
import { alsoOnEngineLoopback, publishedPort } from "../run/for-this-run.ts";
import { LabContainer, LOOPBACK } from "./containers.ts";
import { labImage } from "./images.ts";
import { runRegistry } from "./registry.ts";

const PORT = 5000;
const SCRIPT = readFileSync(new URL("search-index.py", import.meta.url), "utf8");

// What `docker search` asks where Docker Hub is out of the engine's reach: the registry v1 search API over the run's
// registry (search-index.py). It reaches the registry by name on the registry's own network, and the engine reaches it
// on the engine's loopback, as it does the registry, wherever the engine runs. Its label says what it stands in for.
export function searchIndex() {
  const { internal } = runRegistry();
  return alsoOnEngineLoopback(new LabContainer(labImage("python:3.9-slim-bullseye").ref))
    .withNetworkMode(internal.network)
    .withExposedPorts(PORT)
    .withEnvironment({
      INDEX_REGISTRY: `http://${internal.address}`,
      INDEX_PORT: String(PORT),
      INDEX_MANIFEST_TYPES: MANIFEST_TYPES,
    })
    .withCopyContentToContainer([{ content: SCRIPT, target: "/srv/search-index.py" }])
    .withCommand(["python3", "/srv/search-index.py"])
    .withLabels({ [STAND_IN_LABELS.for]: "Docker Hub's search index (registry v1 search API)" })
    .withWaitStrategy(Wait.forLogMessage(/^search index: serving/m));
}

// The index's name in a search term and in `docker login`, as the engine reaches it.
export const indexAddress = async (index: StartedTestContainer) =>
  `${LOOPBACK}:${await publishedPort(index.getId(), PORT, LOOPBACK)}`;
