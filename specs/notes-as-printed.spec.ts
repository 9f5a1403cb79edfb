import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, inject, it } from "vitest";
import { dockerApi, dockerCli, engineMessage, labEngine } from "../helpers/lab/engine.ts";
import { catalogueEntry, normalizeReference, parseReference } from "../helpers/lab/images.ts";
import notes from "./notes-as-printed.json" with { type: "json" };

// One entry of notes-as-printed.json: a command the notes print, quoted, and how this spec checks it (`cli` and
// `shell` give a part of the answer expected).
interface Printed {
  printed: string;
  lines: [number, number];
  section: string;
  wrong: string;
  // `podman`: the part of the answer where the engine is Podman, whose daemon words its refusals its own way.
  check: { cli: string; podman?: string } | { shell: string } | { registry: "serves" | "refuses" };
  ran: string;
  substituted?: Record<string, string>;
  step: { spec: string; title: string };
}

const ANSWER_WITHIN_MS = 10_000;
const withRunId = (text: string) => text.replaceAll("<run id>", inject("runId"));
const firstLine = (text: string) => text.trim().split("\n")[0]!.trim();

// What the CLI says to the printed words, split as a shell splits them (none of them is quoted).
async function cliAnswer(printed: string): Promise<string | undefined> {
  const [, ...args] = printed.split(/\s+/);
  return dockerCli(args).then(
    () => undefined,
    (error: Error) => error.message.replace(/^docker .* exited with \d+: /s, ""),
  );
}

// The block pasted into sh, in an empty folder of its own: a redirection the shell obeyed would leave a file there.
async function shellAnswer(block: string): Promise<{ code: number | null; stderr: string; left: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), "labs-notes-"));
  try {
    const child = spawn("/bin/sh", ["-c", block], {
      cwd: dir,
      env: { ...process.env, DOCKER_HOST: labEngine().endpoint },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) =>
      child
        .once("error", (error) => reject(new Error(`no POSIX sh to paste the block into: ${error.message}`)))
        .once("close", resolve),
    );
    return { code, stderr, left: await readdir(dir) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type RegistryAnswer = { served: true; digest: string } | { served: false; why: string };

// The engine's own registry lookup (what `docker pull` asks first), which pulls and creates nothing.
async function registryAnswer(ref: string): Promise<RegistryAnswer> {
  const docker = await dockerApi();
  const asked = docker
    .getImage(ref)
    .distribution({})
    .then(
      (answer: { Descriptor: { digest: string } }): RegistryAnswer => ({
        served: true,
        digest: answer.Descriptor.digest,
      }),
      (error: unknown): RegistryAnswer => ({ served: false, why: engineMessage(error) }),
    );
  const silent: RegistryAnswer = { served: false, why: `no answer within ${ANSWER_WITHIN_MS / 1000} s` };
  return Promise.race([asked, sleep(ANSWER_WITHIN_MS, silent, { ref: false })]);
}

// Whether the registry answered at all is told by a reference it certainly serves, the catalogue's, on the same
// registry. Where that cannot be asked or goes unanswered, the registry half of the step is not checked here, and
// the step says so in the engine's words; the rest of it (the reference as parsed, the catalogue's own) still holds.
async function registryVerdict(entry: Printed, expected: "serves" | "refuses"): Promise<string> {
  const { registry } = parseReference(entry.printed);
  const sameRegistry = parseReference(entry.ran).registry === registry;
  const [printed, control] = await Promise.all([
    registryAnswer(entry.printed),
    sameRegistry ? registryAnswer(entry.ran) : undefined,
  ]);
  if (printed.served) {
    expect(expected, `${registry} serves ${entry.printed} (${printed.digest})`).toBe("serves");
    return `${registry} serves it (${printed.digest})`;
  }
  if (control?.served) {
    expect(expected, `${registry} refuses ${entry.printed} but serves ${entry.ran}: ${printed.why}`).toBe("refuses");
    return `${registry} refuses it and serves ${entry.ran}: ${printed.why}`;
  }
  const unanswered = control ? `; nor about ${entry.ran}: ${control.why}` : "";
  return `not checked here: the engine could not ask ${registry} about it: ${printed.why}${unanswered}`;
}

const { printed: entries } = notes as unknown as { printed: Printed[] };

describe("The notes as printed", { timeout: 30_000 }, () => {
  for (const entry of entries) {
    it(entry.printed.replaceAll("\n", " "), async ({ annotate }) => {
      const [from, to] = entry.lines;
      await annotate(`printed, notes line ${from === to ? from : `${from}-${to}`} (${entry.section}): ${entry.wrong}`);
      const { check } = entry;
      if ("cli" in check) {
        const answer = await cliAnswer(entry.printed);
        const expected = labEngine().product === "Podman" ? (check.podman ?? check.cli) : check.cli;
        expect(answer, `docker ${entry.printed.split(/\s+/).slice(1).join(" ")} was accepted`).toContain(expected);
        await annotate(`the docker CLI answers: ${firstLine(answer!)}`);
      } else if ("shell" in check) {
        const { code, stderr, left } = await shellAnswer(entry.printed);
        expect(code).not.toBe(0);
        expect(stderr).toContain(check.shell);
        expect(left, "files the shell's redirections created").toEqual([]);
        await annotate(`sh answers, and docker never runs: ${firstLine(stderr)}`);
      } else {
        expect(normalizeReference(entry.printed)).not.toBe(normalizeReference(entry.ran));
        expect(catalogueEntry(entry.ran).official).toBe(entry.ran);
        await annotate(await registryVerdict(entry, check.registry));
      }
      const substituted = Object.entries(entry.substituted ?? {}).map(([from, to]) => `${from} -> ${withRunId(to)}`);
      await annotate(
        `the lab ran: ${withRunId(entry.ran)}${substituted.length ? ` (${substituted.join("; ")})` : ""}, ` +
          `step "${entry.step.title}" of ${entry.step.spec}`,
      );
      expect(readFileSync(entry.step.spec, "utf8"), `${entry.step.spec} has the step`).toContain(
        JSON.stringify(entry.step.title),
      );
    });
  }
});
