import { describe, expect, it } from "vitest";
import { normalizeReference, parseReference } from "../../helpers/catalogue/reference.ts";

describe("image reference parsing", () => {
  it.each([
    ["debian", "docker.io/library/debian:latest"],
    ["debian:bullseye", "docker.io/library/debian:bullseye"],
    ["library/httpd", "docker.io/library/httpd:latest"],
    ["docker.io/library/nginx:1.18", "docker.io/library/nginx:1.18"],
    ["someone/httpd:3.0", "docker.io/someone/httpd:3.0"],
    ["gcr.io/cadvisor/cadvisor:v0.46.0", "gcr.io/cadvisor/cadvisor:v0.46.0"],
    ["localhost:5000/labs/debian", "localhost:5000/labs/debian:latest"],
    ["127.0.0.1:32768/app:1", "127.0.0.1:32768/app:1"],
    [`debian@sha256:${"a".repeat(64)}`, `docker.io/library/debian@sha256:${"a".repeat(64)}`],
    [`nginx:1.18@sha256:${"b".repeat(64)}`, `docker.io/library/nginx:1.18@sha256:${"b".repeat(64)}`],
  ])("%s means %s", (input, expected) => {
    expect(normalizeReference(input)).toBe(expected);
  });

  it("splits a bare name into registry, repository and tag", () => {
    expect(parseReference("debian")).toEqual({
      registry: "docker.io",
      repository: "library/debian",
      tag: "latest",
      digest: undefined,
    });
  });

  it.each([
    ["", /it is empty/],
    ["Debian", /"Debian" is not a valid repository name component/],
    ["nginx:1.18:extra", /not a valid repository name component/],
    ["nginx:bad tag", /not a valid tag/],
    ["nginx@sha256:xyz", /is not a digest/],
  ])("rejects %j", (input, message) => {
    expect(() => parseReference(input)).toThrow(message);
  });
});
