import { normalizeReference } from "./reference.ts";

export interface StandIn {
  official: string;
  standIn: string;
  recipe: string;
  // PRETTY_NAME in the official image's /etc/os-release, where a step asserts it; a stand-in declares its own in
  // its labs.stand-in.os label.
  officialOs?: string;
}

export const STAND_IN_BASE = "labs-stand-in/debian:bullseye";

export const CATALOGUE: readonly StandIn[] = [
  { official: "debian:bullseye", standIn: STAND_IN_BASE, recipe: "debian" },
  { official: "httpd:2.4", standIn: "labs-stand-in/httpd:2.4", recipe: "httpd" },
  {
    official: "python:3.9-slim-bullseye",
    standIn: "labs-stand-in/python:3.9",
    recipe: "python",
    officialOs: "Debian GNU/Linux 11 (bullseye)",
  },
  {
    official: "mysql:5.7",
    standIn: "labs-stand-in/mysql:5.7",
    recipe: "mysql",
    officialOs: "Oracle Linux Server 7.9",
  },
  { official: "nginx:1.18", standIn: "labs-stand-in/nginx:1.18", recipe: "nginx" },
  {
    official: "gcr.io/cadvisor/cadvisor:v0.46.0",
    standIn: "labs-stand-in/cadvisor:v0.46.0",
    recipe: "cadvisor",
  },
  { official: "registry:2", standIn: "labs-stand-in/registry:2", recipe: "registry" },
  {
    official: "ubuntu:14.04",
    standIn: "labs-stand-in/ubuntu:14.04",
    recipe: "ubuntu",
    officialOs: "Ubuntu 14.04.6 LTS",
  },
];

export const STAND_IN_LABELS = {
  for: "labs.stand-in.for",
  recipe: "labs.stand-in.recipe",
  lacks: "labs.stand-in.lacks",
  // What the stand-in really is: its own /etc/os-release PRETTY_NAME, which a step expects in place of the official's.
  os: "labs.stand-in.os",
} as const;

export function catalogueEntry(ref: string): StandIn {
  const wanted = normalizeReference(ref);
  const entry = CATALOGUE.find(({ official }) => normalizeReference(official) === wanted);
  if (!entry) {
    const known = CATALOGUE.map(({ official }) => official).join(", ");
    throw new Error(`"${ref}" is not a lab image; the catalogue knows ${known}`);
  }
  return entry;
}
