import { getContainerRuntimeClient } from "testcontainers";

// testcontainers has no API for image tags, history, inspect or TTY options: its dockerode client does.
export async function dockerApi() {
  return (await getContainerRuntimeClient()).container.dockerode;
}
