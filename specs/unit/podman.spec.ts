import { describe, expect, it } from "vitest";
import { nameOnEngine } from "../../helpers/run/resolve-images.ts";
import { productOf } from "../../helpers/engine/client.ts";
import { describeEngine, engineTitle, type Engine } from "../../helpers/engine/facts.ts";
import { timerFor } from "../../helpers/private-engines/healthchecks.ts";
import { withSettings } from "../../helpers/private-engines/podman.ts";
import { clampRlimits, hardLimits, mayRaiseLimits } from "../../helpers/private-engines/rlimits.ts";

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             32768                96363                processes
Max open files            20000                20000                files
`;

describe("the private Podman's runtime clamp", () => {
  it("reads the hard limits of /proc/<pid>/limits by rlimit type", () => {
    const hard = hardLimits(PROC_LIMITS);
    expect([hard.get("RLIMIT_NPROC"), hard.get("RLIMIT_NOFILE"), hard.get("RLIMIT_CPU")]).toEqual([
      96363,
      20000,
      Infinity,
    ]);
  });

  it("lowers only the limits above what the runtime may set, soft limits with them", () => {
    const { rlimits, lowered } = clampRlimits(
      [
        { type: "RLIMIT_NPROC", hard: 1048576, soft: 1048576 },
        { type: "RLIMIT_NOFILE", hard: 16384, soft: 16384 },
        { type: "RLIMIT_CORE", hard: 0, soft: 0 },
      ],
      hardLimits(PROC_LIMITS),
    );
    expect(rlimits).toEqual([
      { type: "RLIMIT_NPROC", hard: 96363, soft: 96363 },
      { type: "RLIMIT_NOFILE", hard: 16384, soft: 16384 },
      { type: "RLIMIT_CORE", hard: 0, soft: 0 },
    ]);
    expect(lowered).toEqual(["RLIMIT_NPROC 1048576:1048576 -> 96363:96363"]);
  });

  it("leaves everything alone where root has CAP_SYS_RESOURCE", () => {
    expect(mayRaiseLimits("CapEff:\t000001ffffffffff\n")).toBe(true);
    expect(mayRaiseLimits("CapEff:\t000001fffeffffff\n")).toBe(false);
  });
});

describe("the private Podman's containers.conf", () => {
  const DISTRIBUTION =
    '[containers]\ndefault_sysctls = [\n  "net.ipv4.ping_group_range=0 0",\n]\n\n[engine]\n#tmp_dir = "/run/libpod"\n';

  it("is the distribution's file with the engine's settings added to its tables, and new tables appended", () => {
    const conf = withSettings(DISTRIBUTION, {
      containers: ['cgroups = "no-conmon"'],
      engine: ['tmp_dir = "/run/labs-engines/x/libpod"'],
      "engine.runtimes": ['runc = ["/run/labs-engines/x/runc"]'],
    });
    expect(conf.split("\n")).toEqual([
      "[containers]",
      'cgroups = "no-conmon"',
      "default_sysctls = [",
      '  "net.ipv4.ping_group_range=0 0",',
      "]",
      "",
      "[engine]",
      'tmp_dir = "/run/labs-engines/x/libpod"',
      '#tmp_dir = "/run/libpod"',
      "",
      "",
      "[engine.runtimes]",
      'runc = ["/run/labs-engines/x/runc"]',
    ]);
  });

  it("refuses a key the distribution already sets, rather than write a file Podman would reject", () => {
    expect(() => withSettings(DISTRIBUTION, { containers: ['default_sysctls = ["x=1"]'] })).toThrow(
      "the distribution's containers.conf already sets containers.default_sysctls",
    );
  });
});

describe("Podman as the engine", () => {
  const podman = {
    product: "Podman",
    version: "4.3.1",
    os: "linux",
    arch: "amd64",
    endpoint: "unix:///run/labs-engines/x/podman.sock",
    minApiVersion: "1.24",
    apiVersion: "1.41",
    imageStore: "classic",
    driver: "overlay",
    cgroupVersion: "1",
    cgroupDriver: "cgroupfs",
    dataRoot: "/var/lib/labs-engines/x",
    operatingSystem: "Debian GNU/Linux 12 (bookworm)",
    remote: false,
    rootless: false,
    socketPath: "/run/labs-engines/x/podman.sock",
  } as Engine;

  it("is told from Docker by the components its version names", () => {
    expect(productOf({ Components: [{ Name: "Podman Engine" }, { Name: "Conmon" }] })).toBe("Podman");
    expect(productOf({ Components: [{ Name: "Engine" }, { Name: "containerd" }] })).toBe("Docker");
    expect(productOf({})).toBe("Docker");
  });

  it("is named for what it is, with its storage driver", () => {
    expect(engineTitle(podman)).toBe("Podman 4.3.1, storage driver overlay");
    expect(describeEngine(podman)).toBe(
      "Podman 4.3.1 linux/amd64 at unix:///run/labs-engines/x/podman.sock (Docker API 1.24–1.41, storage driver " +
        "overlay, cgroup v1 (driver cgroupfs), data root /var/lib/labs-engines/x) on Debian GNU/Linux 12 (bookworm), " +
        "local, socket /run/labs-engines/x/podman.sock as the engine sees it",
    );
  });

  it("keeps an image loaded under a name without a registry in localhost/, and steps use that name", () => {
    const loaded = ["localhost/labs-stand-in/debian:bullseye"];
    expect(nameOnEngine("labs-stand-in/debian:bullseye", loaded)).toBe("localhost/labs-stand-in/debian:bullseye");
    expect(nameOnEngine("labs-stand-in/debian:bullseye", ["labs-stand-in/debian:bullseye"])).toBe(
      "labs-stand-in/debian:bullseye",
    );
    expect(nameOnEngine("mysql:5.7", ["docker.io/library/mysql:5.7"])).toBe("mysql:5.7");
    expect(nameOnEngine("docker.io/labs-stand-in/debian:bullseye", loaded)).toBe(
      "docker.io/labs-stand-in/debian:bullseye",
    );
  });
});

describe("the private Podman's healthcheck timers", () => {
  it("checks at the container's start, then every interval it names", () => {
    const started = Date.parse("2026-12-03T08:56:49Z");
    expect(timerFor({ Test: ["CMD", "mysqladmin", "ping"], Interval: 1_000_000_000 }, started)).toEqual({
      interval: 1000,
      due: started,
      running: false,
    });
  });

  it("takes Podman's default interval of 30 s where the healthcheck names none", () => {
    expect(timerFor({ Test: ["CMD-SHELL", "true"] }, 0)?.interval).toBe(30_000);
  });

  it("keeps no timer for a container without a healthcheck, or with it disabled", () => {
    expect([timerFor(undefined, 0), timerFor({ Test: ["NONE"] }, 0), timerFor({ Test: [] }, 0)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});
