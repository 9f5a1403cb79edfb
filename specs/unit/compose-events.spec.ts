import { describe, expect, it } from "vitest";
import { startsAndHealth, type EngineEvent } from "../../helpers/lab/compose.ts";

const event = (service: string, Action: string, HealthStatus?: string): EngineEvent => ({
  Action,
  Actor: { Attributes: { "com.docker.compose.service": service } },
  ...(HealthStatus ? { HealthStatus } : {}),
});

describe("compose's start and health events, as the engine reports them", () => {
  it("takes Docker's: the status in the action, one event per change", () => {
    const docker = [event("db", "start"), event("db", "health_status: healthy"), event("app", "start")];
    expect(startsAndHealth(docker, false)).toEqual(["db start", "db health_status: healthy", "app start"]);
  });

  it("reads Podman's one event per check as the changes Docker reports", () => {
    const podman = [
      event("db", "start"),
      event("db", "health_status", "starting"),
      event("db", "health_status", "healthy"),
      event("app", "start"),
      event("db", "health_status", "healthy"),
    ];
    expect(startsAndHealth(podman, false)).toEqual(["db start", "db health_status: healthy", "app start"]);
  });

  // As measured on Podman 4.3.1: the check that made the db healthy named "starting", the next one "healthy".
  it("takes a check's result from the next check's event where the engine names the status before the check", () => {
    const lagging = [
      event("db", "start"),
      event("db", "health_status", "starting"),
      event("db", "health_status", "starting"),
      event("app", "start"),
    ];
    expect(startsAndHealth(lagging, true)).toEqual(["db start", "app start"]);
    const next = [...lagging, event("db", "health_status", "healthy")];
    expect(startsAndHealth(next, true)).toEqual(["db start", "db health_status: healthy", "app start"]);
  });

  it("shows an app started before the db's check that made it healthy", () => {
    const early = [
      event("db", "start"),
      event("db", "health_status", "starting"),
      event("app", "start"),
      event("db", "health_status", "starting"),
      event("db", "health_status", "healthy"),
    ];
    expect(startsAndHealth(early, true)).toEqual(["db start", "app start", "db health_status: healthy"]);
  });
});
