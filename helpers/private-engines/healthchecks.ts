// The healthcheck timers systemd keeps for a Podman on a host that runs systemd. Podman 4.3 runs no check itself: for
// each container with a healthcheck it starts a transient unit and timer (libpod/healthcheck_linux.go: `systemd-run
// --unit <id> --on-unit-inactive=<interval> --timer-property=AccuracySec=1s podman healthcheck run <id>`, the unit
// started with the container); without systemd it logs "unable to get systemd connection to add healthchecks" and
// the container stays "starting". This machine has no systemd; a reader's has. The private engine runs this beside its
// service, in the engine's cgroup and mount namespace: for each running container that defines a healthcheck it runs
// the same command when the container has started and one interval after each run ends, to the second. Like
// systemd's timers it outlives a restart of the service: the checks run through podman's command line, not the API.
// node healthchecks.ts <engine socket> <podman> [podman's global options…]
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import type { HealthConfig } from "dockerode";
import { dockerApiAt } from "../engine/hosts.ts";

const TICK_MS = 1000;
// Podman's default interval (libpod/define DefaultHealthCheckInterval), for a healthcheck that names none.
const DEFAULT_INTERVAL_MS = 30_000;

// A timer started with its container: the first check at the start.
export function timerFor(healthcheck: HealthConfig | undefined, startedAt: number) {
  const test = healthcheck?.Test ?? [];
  if (!test.length || test[0] === "NONE") return undefined;
  const interval = healthcheck?.Interval ? healthcheck.Interval / 1e6 : DEFAULT_INTERVAL_MS; // nanoseconds
  return { interval, due: startedAt, running: false };
}

async function run(socket: string, podman: string[]): Promise<never> {
  const docker = dockerApiAt(`unix://${socket}`);
  // By container id: its timer, or undefined for a running container without a healthcheck.
  const timers = new Map<string, ReturnType<typeof timerFor>>();
  for (;;) {
    const started = Date.now();
    // While the service is down (an interrupt), the containers known to be running keep their timers.
    const running = await docker.listContainers().catch(() => undefined);
    if (running) {
      const ids = new Set(running.map(({ Id }) => Id));
      for (const id of timers.keys()) if (!ids.has(id)) timers.delete(id);
      for (const id of ids) {
        if (timers.has(id)) continue;
        const info = await docker
          .getContainer(id)
          .inspect()
          .catch(() => undefined);
        if (info) timers.set(id, timerFor(info.Config.Healthcheck, Date.parse(info.State.StartedAt) || Date.now()));
      }
    }
    for (const [id, timer] of timers) {
      if (!timer || timer.running || Date.now() < timer.due) continue;
      timer.running = true;
      const check = spawn(podman[0]!, [...podman.slice(1), "healthcheck", "run", id], {
        stdio: ["ignore", "ignore", "inherit"],
      });
      const done = () => {
        timer.running = false;
        timer.due = Date.now() + timer.interval;
      };
      check
        .on("exit", done)
        .on("error", (error) => (console.error(`podman healthcheck run ${id}: ${error.message}`), done()));
    }
    await sleep(Math.max(0, TICK_MS - (Date.now() - started)));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [socket, ...podman] = process.argv.slice(2);
  if (!socket || !podman.length) throw new Error("usage: healthchecks.ts <engine socket> <podman> [global options…]");
  await run(socket, podman);
}
