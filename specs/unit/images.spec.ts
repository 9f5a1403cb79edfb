import { describe, expect, it } from "vitest";
import { CATALOGUE, catalogueEntry } from "../../helpers/catalogue/entries.ts";
import {
  autoFallbackLine,
  describeImage,
  digestFor,
  expectedOs,
  planImages,
  standInFacts,
} from "../../helpers/catalogue/plan.ts";
import { engineMessage } from "../../helpers/engine/errors.ts";
import { imageMapFrom, imageSourceFrom } from "../../helpers/catalogue/settings.ts";

const noRegistry = () => false;
const everyRegistry = () => true;

describe("image catalogue", () => {
  it("names every lab image by its official reference", () => {
    expect(CATALOGUE.map(({ official }) => official)).toEqual([
      "debian:bullseye",
      "httpd:2.4",
      "python:3.9-slim-bullseye",
      "mysql:5.7",
      "nginx:1.18",
      "gcr.io/cadvisor/cadvisor:v0.46.0",
      "registry:2",
      "ubuntu:14.04",
    ]);
  });

  it("finds an entry under any spelling of its reference", () => {
    expect(catalogueEntry("docker.io/library/nginx:1.18").standIn).toBe("labs-stand-in/nginx:1.18");
  });

  it("rejects an image the catalogue does not know, listing the ones it does", () => {
    expect(() => catalogueEntry("gcr.io/cadvisor:v0.46.0")).toThrow(
      /"gcr.io\/cadvisor:v0.46.0" is not a lab image; the catalogue knows debian:bullseye, .*ubuntu:14.04/,
    );
  });
});

describe("image resolution", () => {
  it("LABS_IMAGES defaults to auto and rejects anything else", () => {
    expect(imageSourceFrom({})).toBe("auto");
    expect(imageSourceFrom({ LABS_IMAGES: "local" })).toBe("local");
    expect(() => imageSourceFrom({ LABS_IMAGES: "stand-in" })).toThrow(
      "LABS_IMAGES=stand-in is not an image source: use official, local or auto",
    );
  });

  it("official runs the official references whatever the registries say", () => {
    const plans = planImages("official", new Map(), noRegistry);
    expect(plans.map(({ ref }) => ref)).toEqual(CATALOGUE.map(({ official }) => official));
  });

  it("local runs the stand-ins whatever the registries say", () => {
    const plans = planImages("local", new Map(), everyRegistry);
    expect(plans.map(({ ref }) => ref)).toEqual(CATALOGUE.map(({ standIn }) => standIn));
    expect(new Set(plans.map(({ why }) => why))).toEqual(new Set(["stand-in"]));
  });

  it("auto picks per image: official where the engine can pull it, the stand-in where it cannot", () => {
    const plans = planImages("auto", new Map(), (official) => !official.startsWith("gcr.io/"));
    const byOfficial = Object.fromEntries(plans.map(({ official, ref }) => [official, ref]));
    expect(byOfficial["nginx:1.18"]).toBe("nginx:1.18");
    expect(byOfficial["gcr.io/cadvisor/cadvisor:v0.46.0"]).toBe("labs-stand-in/cadvisor:v0.46.0");
  });

  it("LABS_IMAGE_MAP is applied last, under any spelling of the official reference", () => {
    const map = imageMapFrom({ LABS_IMAGE_MAP: '{"docker.io/library/nginx:1.18": "mirror.local/nginx:1.18"}' });
    const plans = planImages("local", map, noRegistry);
    expect(plans.find(({ official }) => official === "nginx:1.18")).toEqual({
      official: "nginx:1.18",
      ref: "mirror.local/nginx:1.18",
      why: "LABS_IMAGE_MAP",
    });
  });

  it.each([
    ["not json", /LABS_IMAGE_MAP is not JSON/],
    ['["nginx:1.18"]', /must be a JSON object/],
    ['{"nginx:1.18": 3}', /LABS_IMAGE_MAP\["nginx:1.18"\] must be an image reference string/],
    ['{"nginx:1.19": "nginx:1.19"}', /"nginx:1.19" is not a lab image/],
    ['{"nginx:1.18": "Not A Ref"}', /invalid image reference "Not A Ref"/],
  ])("LABS_IMAGE_MAP=%s is refused", (value, message) => {
    expect(() => imageMapFrom({ LABS_IMAGE_MAP: value })).toThrow(message);
  });

  it("tells a stand-in by its labels, never by the mode", () => {
    const labels = { "labs.stand-in.for": "gcr.io/cadvisor/cadvisor:v0.46.0", "labs.stand-in.lacks": "web-ui" };
    expect(standInFacts(labels)).toEqual({ standInFor: "gcr.io/cadvisor/cadvisor:v0.46.0", lacks: ["web-ui"] });
    expect(standInFacts({ maintainer: "someone" })).toEqual({ lacks: [] });
  });

  it("reads what OS a stand-in really is from its labs.stand-in.os label", () => {
    const labels = {
      "labs.stand-in.for": "ubuntu:14.04",
      "labs.stand-in.lacks": "",
      "labs.stand-in.os": "Debian GNU/Linux 11 (bullseye)",
    };
    expect(standInFacts(labels)).toEqual({
      standInFor: "ubuntu:14.04",
      standInOs: "Debian GNU/Linux 11 (bullseye)",
      lacks: [],
    });
  });

  it("expects the catalogue's OS of an official image and the label's OS of a stand-in", () => {
    const official = { official: "ubuntu:14.04", ref: "ubuntu:14.04", id: "sha256:1", lacks: [] };
    expect(expectedOs(official)).toEqual({
      name: "Ubuntu 14.04.6 LTS",
      declaredBy: "the catalogue, for the official ubuntu:14.04",
    });
    expect(expectedOs({ ...official, ref: "mysql:5.7", official: "mysql:5.7" }).name).toBe("Oracle Linux Server 7.9");
    const standIn = { ...official, ref: "labs-stand-in/ubuntu:14.04", standInFor: "ubuntu:14.04" };
    expect(expectedOs({ ...standIn, standInOs: "Debian GNU/Linux 11 (bullseye)" })).toEqual({
      name: "Debian GNU/Linux 11 (bullseye)",
      declaredBy: "labs-stand-in/ubuntu:14.04's labs.stand-in.os label",
    });
    expect(() => expectedOs(standIn)).toThrow(
      "labs-stand-in/ubuntu:14.04 stands for ubuntu:14.04 but has no labs.stand-in.os label to say what OS it is: " +
        "rebuild it (npm run images:build ubuntu)",
    );
    expect(() => expectedOs({ ...official, ref: "nginx:1.18", official: "nginx:1.18" })).toThrow(
      "the catalogue names no OS for nginx:1.18",
    );
  });

  it("says what OS a stand-in really is beside what it stands for", () => {
    const standIn = {
      official: "ubuntu:14.04",
      ref: "labs-stand-in/ubuntu:14.04",
      id: `sha256:${"c".repeat(64)}`,
      standInFor: "ubuntu:14.04",
      standInOs: "Debian GNU/Linux 11 (bullseye)",
      lacks: [],
    };
    expect(describeImage(standIn)).toBe(
      "ubuntu:14.04 -> labs-stand-in/ubuntu:14.04 (cccccccccccc) stand-in for ubuntu:14.04, really Debian GNU/Linux 11 (bullseye)",
    );
  });

  it("states reference, short id and kind of the image a lab runs", () => {
    const standIn = {
      official: "nginx:1.18",
      ref: "labs-stand-in/nginx:1.18",
      id: `sha256:${"c".repeat(64)}`,
      standInFor: "nginx:1.18",
      lacks: [],
    };
    expect(describeImage(standIn)).toBe(
      "nginx:1.18 -> labs-stand-in/nginx:1.18 (cccccccccccc) stand-in for nginx:1.18",
    );
    expect(describeImage({ ...standIn, ref: "nginx:1.18", standInFor: undefined })).toBe(
      "nginx:1.18 -> nginx:1.18 (cccccccccccc) official image",
    );
  });

  it("states the registry digest of a pulled image, and keeps its stand-in label", () => {
    const pulled = {
      official: "nginx:1.18",
      ref: "nginx:1.18",
      id: `sha256:${"c".repeat(64)}`,
      digest: `sha256:${"d".repeat(64)}`,
      standInFor: "nginx:1.18",
      lacks: [],
    };
    expect(describeImage(pulled)).toBe(
      `nginx:1.18 -> nginx:1.18 (cccccccccccc, digest sha256:${"d".repeat(64)}) stand-in for nginx:1.18`,
    );
  });

  it("takes the digest recorded for the repository the image was pulled from", () => {
    const [own, other] = [`sha256:${"1".repeat(64)}`, `sha256:${"2".repeat(64)}`];
    const repoDigests = [`127.0.0.1:5000/library/nginx@${other}`, `nginx@${own}`];
    expect(digestFor("nginx:1.18", repoDigests)).toBe(own);
    expect(digestFor("docker.io/library/nginx:1.18", repoDigests)).toBe(own);
    expect(digestFor("127.0.0.1:5000/library/nginx:1.18", repoDigests)).toBe(other);
    expect(digestFor("labs-stand-in/nginx:1.18", repoDigests)).toBeUndefined();
    expect(digestFor("labs-stand-in/nginx:1.18", undefined)).toBeUndefined();
  });

  it("keeps the engine's own words of a failed pull, without dockerode's status prefix", () => {
    const pull = new Error('(HTTP code 500) server error - Get "https://registry.test/v2/": no such host\nmore');
    expect(engineMessage(pull)).toBe('Get "https://registry.test/v2/": no such host');
    expect(engineMessage({ json: { message: "manifest unknown" } })).toBe("manifest unknown");
  });

  it("says in one line why auto runs stand-ins, naming alike failures together", () => {
    const hub = 'Get "https://registry-1.docker.io/v2/": no such host';
    const gcr = 'Get "https://gcr.io/v2/": no such host';
    const unavailable = new Map([
      ["nginx:1.18", hub],
      ["gcr.io/cadvisor/cadvisor:v0.46.0", gcr],
      ["mysql:5.7", hub],
    ]);
    expect(autoFallbackLine(unavailable)).toBe(
      `images: auto runs stand-ins, as the engine cannot pull nginx:1.18, mysql:5.7 (${hub}); ` +
        `gcr.io/cadvisor/cadvisor:v0.46.0 (${gcr})`,
    );
    expect(autoFallbackLine(new Map())).toBeUndefined();
  });
});
