import { normalizeReference } from "./reference.ts";

export interface StandIn {
  official: string;
  standIn: string;
  recipe: string;
}

export const STAND_IN_BASE = "labs-stand-in/debian:bullseye";

export const CATALOGUE: readonly StandIn[] = [
  { official: "debian:bullseye", standIn: STAND_IN_BASE, recipe: "debian" },
  { official: "httpd:2.4", standIn: "labs-stand-in/httpd:2.4", recipe: "httpd" },
  { official: "python:3.9-slim-bullseye", standIn: "labs-stand-in/python:3.9", recipe: "python" },
  { official: "mysql:5.7", standIn: "labs-stand-in/mysql:5.7", recipe: "mysql" },
  { official: "nginx:1.18", standIn: "labs-stand-in/nginx:1.18", recipe: "nginx" },
  {
    official: "gcr.io/cadvisor/cadvisor:v0.46.0",
    standIn: "labs-stand-in/cadvisor:v0.46.0",
    recipe: "cadvisor",
  },
  { official: "registry:2", standIn: "labs-stand-in/registry:2", recipe: "registry" },
];

export type OfficialRef = (typeof CATALOGUE)[number]["official"];

export const STAND_IN_LABELS = {
  for: "labs.stand-in.for",
  recipe: "labs.stand-in.recipe",
  lacks: "labs.stand-in.lacks",
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
