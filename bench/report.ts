// What `npm run bench` prints: the Markdown table per lab, the measures against the targets of issue 8 with enough
// beside them to judge a number, the definitions, and what the runs left on the engine.
import { availableParallelism, cpus, release, totalmem } from "node:os";
import { SAMPLE_MS } from "./memory.ts";
import { capture } from "./processes.ts";
import { READY_RULES, type Tracked } from "./readiness.ts";
import type { JsonReport, ScriptRun, SuiteRun } from "./runs.ts";
import { labTimings, maxOverlap, median, percentile, stepOverheads, type Attribution, type Module } from "./timing.ts";

const TARGETS = { ratio: 0.8, stepOverheadMs: 300, runnerMb: 400 };

// Every time the bench prints is in seconds with one decimal: finer would be noise between runs.
export const s = (ms: number) => (ms / 1000).toFixed(1);
const mb = (kb: number) => Math.round(kb / 1024);
const verdict = (met: boolean) => (met ? "met" : "MISSED");

export interface Measured {
  suite: SuiteRun;
  report: JsonReport;
  modules: Module[];
  script?: ScriptRun;
  containers: Tracked[];
  buildSteps: number;
  who: Attribution;
}

async function machine(): Promise<string> {
  const [engine, info, buildx] = await Promise.all([
    capture("docker", ["version", "--format", "{{.Server.Version}} ({{.Server.Os}}/{{.Server.Arch}})"]),
    capture("docker", ["info", "--format", "cgroup v{{.CgroupVersion}}, {{.Driver}}"]),
    capture("docker", ["buildx", "version"]),
  ]);
  const cpu = cpus()[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU";
  return (
    `${availableParallelism()} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory, Linux ${release()}, ` +
    `Docker ${engine} (${info}, ${buildx ? "BuildKit" : "legacy builder"}), Node ${process.version}`
  );
}

function labTable({ modules, who, script }: Measured): string[] {
  const rows: string[] = [];
  const totals = { containers: 0, ready: 0, spec: 0, overhead: 0, script: 0 };
  for (const { lab, steps, containers, readyMs, specMs } of labTimings(modules, who)) {
    const scriptS = script?.labs.get(lab);
    totals.containers += containers;
    totals.ready += readyMs;
    totals.spec += specMs;
    totals.overhead += specMs - readyMs;
    totals.script += (scriptS ?? 0) * 1000;
    rows.push(
      `| ${lab} | ${steps} | ${containers} | ${s(readyMs)} | ${s(specMs)} | ` +
        `${s(specMs - readyMs)} | ${scriptS === undefined ? "–" : scriptS.toFixed(1)} |`,
    );
  }
  return [
    "| Lab (spec file) | steps | containers | containers' start-to-ready (s) | spec total (s) | overhead (s) | script (s) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    `| **all labs** | ${modules.reduce((n, m) => n + m.steps.length, 0)} | ${totals.containers} | ${s(totals.ready)} | ` +
      `${s(totals.spec)} | ${s(totals.overhead)} | ${s(totals.script)} |`,
  ];
}

// Under pool "threads" the workers live in vitest's own process, so there is no fork count or main-process share to
// tell apart; under pool "forks" both say where the memory went.
function runnerScope({ memory }: SuiteRun): string {
  if (memory.peakForks === 0) return "vitest's process, its worker threads included";
  return (
    `vitest's main process + the processes it forked, at most ${memory.peakForks} at once; ` +
    `main process alone ${mb(memory.peak.main)} MB`
  );
}

export async function benchReport(measured: Measured, options: { warmup: boolean; steps: boolean }): Promise<string> {
  const { suite, report, modules, script, containers, buildSteps, who } = measured;
  const steps = stepOverheads(modules, who);
  const overheads = steps.map(({ overheadMs }) => overheadMs);
  const worst = steps.reduce((a, b) => (b.overheadMs > a.overheadMs ? b : a));
  const ratio = script ? suite.finished.wallMs / script.finished.wallMs : undefined;
  const medianMs = median(overheads);
  const memory = suite.memory;
  const runnerMb = mb(memory.peak.runner);
  const firstQueued = Math.min(...modules.map(({ queuedAt }) => queuedAt ?? Infinity));
  const lastEnded = Math.max(...modules.map(({ endedAt }) => endedAt ?? 0));
  const kinds = (kind: Tracked["readiness"]) => containers.filter(({ readiness }) => readiness === kind).length;

  const out = [
    "",
    ...labTable(measured),
    "",
    `- Suite wall time: **${s(suite.finished.wallMs)} s** (vitest process from spawn to exit: global setup, ` +
      `${modules.length} spec files with at most ${maxOverlap(modules)} running at once, teardown audit; ` +
      `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped; ` +
      `${s(firstQueued - suite.finished.spawnedAt)} s before the first spec file, ` +
      `${s(suite.finished.exitedAt - lastEnded)} s after the last)`,
    script && ratio !== undefined
      ? `- Script wall time: **${s(script.finished.wallMs)} s** (bash bench/labs.sh, sequential docker CLI, ` +
        `100 ms polling)\n- Ratio suite / script: **${ratio.toFixed(2)}** — target ≤ ${TARGETS.ratio}: ` +
        verdict(ratio <= TARGETS.ratio)
      : "- Script: not run (--suite-only), so no ratio",
    `- Median per-step overhead: **${Math.round(medianMs)} ms** over ${steps.length} steps (p90 ` +
      `${Math.round(percentile(overheads, 90))} ms, max ${Math.round(worst.overheadMs)} ms in ${worst.lab} ` +
      `"${worst.step.title.slice(0, 60)}") — target < ${TARGETS.stepOverheadMs} ms: ` +
      `${verdict(medianMs < TARGETS.stepOverheadMs)}`,
    `- Runner peak memory: **${runnerMb} MB** (${runnerScope(suite)}) — target < ${TARGETS.runnerMb} MB: ` +
      `${verdict(runnerMb < TARGETS.runnerMb)}. Beside it: node helpers the suite spawned ` +
      `(${[...memory.helperNames].join(", ") || "none"}) ${mb(memory.peak.helpers)} MB; the whole process tree, ` +
      `Chromium included, ${mb(memory.peak.tree)} MB. Peaks of summed VmRSS over ${memory.samples} samples ` +
      `every ${SAMPLE_MS} ms.`,
    `- Machine: ${await machine()}`,
    `- Warm-up: ${options.warmup ? "one untimed run of the suite and of the script before these" : "none (stand-ins built, `--warmup` adds an untimed first run of each)"}`,
    "",
    "Definitions:",
    "- containers' start-to-ready: per lab, the time during which at least one of its containers was getting ready " +
      "(the union of their intervals), each from the engine's `create` event to its ready signal: " +
      READY_RULES.map(({ image, what }) => `${image.source}: ${what}`).join("; ") +
      "; any other container (sleepers, shells, one-shot commands, a server image told to run something else): the " +
      "engine's `start` event. " +
      `This run: ${containers.length} containers (and ${buildSteps} build-step containers of \`docker build\`, ` +
      `left out), ${kinds("log")} ready by log line, ${kinds("listen")} by listening socket, ` +
      `${kinds("start")} at start${kinds("not seen") ? `, ${kinds("not seen")} never seen ready (counted to start)` : ""}.`,
    "- spec total: from vitest handing the spec file to a worker to the file's end (imports, steps, " +
      "file-scoped fixture teardown), as the main process saw it.",
    "- overhead: spec total − containers' start-to-ready. Per step: the step's duration − the union of the " +
      "start-to-ready intervals of the containers it created (clipped to the step); a container is charged to the " +
      `step running when the engine created it (${who.byTime} by time alone, ${who.byTieBreak} by tie-break, ` +
      `${who.outsideSteps} outside any step). Skipped steps are left out of the median.`,
    "- script: the lab's section of bench/labs.sh, from its first to its last command.",
  ];
  if (options.steps) {
    out.push(
      "",
      "| Lab | Step | duration (ms) | containers | start-to-ready (ms) | overhead (ms) |",
      "| --- | --- | ---: | ---: | ---: | ---: |",
      ...steps.map(
        ({ lab, step, overheadMs }) =>
          `| ${lab} | ${step.title.replaceAll("|", "\\|").slice(0, 70)} | ${Math.round(step.durationMs)} | ` +
          `${who.steps.get(step)?.length ?? 0} | ${Math.round(step.durationMs - overheadMs)} | ${Math.round(overheadMs)} |`,
      ),
    );
  }
  return out.join("\n");
}

// The suite's final audit and bench/labs.sh both clean up after themselves; this says whether they did.
export async function leftOnEngine(suite: SuiteRun): Promise<string> {
  const left = async (kind: string, filter: string) =>
    (await capture("docker", [...(kind === "container" ? ["ps", "-a"] : [kind, "ls"]), "-q", "--filter", filter]))
      .split("\n")
      .filter(Boolean).length;
  const leftovers = [];
  for (const kind of ["container", "network", "volume"]) {
    const count = await left(kind, `label=labs.run=${suite.runId}`);
    if (count) leftovers.push(`${count} ${kind}(s) labelled labs.run=${suite.runId}`);
  }
  for (const kind of ["container", "network", "volume", "image"]) {
    const count = await left(kind, "label=labs.bench=1");
    if (count) leftovers.push(`${count} ${kind}(s) labelled labs.bench=1`);
  }
  return (
    `\nLeft on the engine: ${leftovers.length ? leftovers.join(", ") : "nothing of the suite's run or of the script"}` +
    (suite.leakedVolumes.length
      ? `; but the suite left ${suite.leakedVolumes.length} anonymous volume(s) that its containers mounted ` +
        `(${suite.leakedVolumes.join(", ")}): the bench removed them`
      : "")
  );
}
