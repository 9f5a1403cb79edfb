import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ROOT } from "./declarations.ts";

const OUTPUT_TAIL = 20;
const VITEST = join(ROOT, "node_modules", "vitest", "vitest.mjs");

// Only an assertion proves the step judged the image; a timeout or a failed fixture says nothing about what it checks.
export type FailureKind = "assertion" | "timeout" | "setup error" | "error";

export interface StepResult {
  file: string;
  title: string;
  fullName: string;
  status: "passed" | "failed" | "skipped";
  seconds: number;
  failure?: { kind: FailureKind; message: string };
}

export interface LabRun {
  steps: StepResult[];
  unloadable: string[];
}

interface JsonReport {
  testResults: {
    name: string;
    message: string;
    assertionResults: {
      ancestorTitles: string[];
      title: string;
      status: string;
      failureMessages: string[] | null;
      duration?: number | null;
      location?: { line: number } | null;
    }[];
  }[];
}

// The JSON report keeps only each error's stack, and expect.poll and .rejects/.resolves give their AssertionError
// the stack of the expect call, which reads "Error: …": their messages are still expect's own ("expected … to …",
// "promise resolved … instead of rejecting").
const ASSERTION = /^\w*AssertionError\b|^Error: (.*\b)?(expected .+ to |promise (resolved|rejected) .+ instead of )/;
const TIMEOUT =
  /^(TestTimeoutError|HookTimeoutError)\b|^Error: ((Test|Hook) timed out in |expect\.poll\(\) \w+ didn't resolve in time)/;

// vitest passes a fixture's error on unchanged, so where it was thrown tells a step's own error from its setup's:
// the step's body runs from its `lab(` line up to the next step's.
function kindOf(stack: string, file: string, body: [number, number]): FailureKind {
  const firstLine = stack.split("\n")[0]!;
  if (ASSERTION.test(firstLine)) return "assertion";
  if (TIMEOUT.test(firstLine)) return "timeout";
  const lines = [...stack.matchAll(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):\\d+`, "g"))];
  const inBody = lines.some(([, line]) => Number(line) >= body[0] && Number(line) < body[1]);
  return inBody ? "error" : "setup error";
}

function stepsOf({ testResults }: JsonReport): StepResult[] {
  return testResults.flatMap(({ name, assertionResults }) => {
    const starts = assertionResults.map(({ location }) => location?.line ?? 0).sort((a, b) => a - b);
    return assertionResults.map(
      ({ ancestorTitles, title, status, failureMessages, duration, location }): StepResult => {
        const start = location?.line ?? 0;
        const end = starts.find((line) => line > start) ?? Infinity;
        const stack = failureMessages?.[0] ?? "";
        const failure = { kind: kindOf(stack, name, [start, end]), message: stack.split("\n")[0]!.trim() };
        return {
          file: relative(ROOT, name),
          title,
          fullName: [...ancestorTitles, title].join(" > "),
          status: status === "passed" || status === "failed" ? status : "skipped",
          seconds: (duration ?? 0) / 1000,
          ...(status === "failed" ? { failure } : {}),
        };
      },
    );
  });
}

export interface LabRunRequest {
  files: string[];
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

// vitest with `args`, writing its JSON to a file of its own; a run that writes none is an error showing its output.
async function vitestJson<T>(args: (file: string) => string[], { env, signal }: LabRunRequest): Promise<T> {
  const out = await mkdtemp(join(tmpdir(), "labs-mutants-"));
  const file = join(out, "out.json");
  try {
    const child = spawn(process.execPath, [VITEST, ...args(file)], {
      cwd: ROOT,
      env: { ...env, FORCE_COLOR: "0", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      signal,
    });
    let output = "";
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    await new Promise<void>((resolve) => child.on("close", () => resolve()).on("error", () => undefined));
    signal.throwIfAborted();
    return await readFile(file, "utf8").then(
      (text) => JSON.parse(text) as T,
      () => {
        const tail = output.trim().split("\n").slice(-OUTPUT_TAIL).join("\n  ");
        throw new Error(`vitest ${args(file)[0]} wrote no JSON; its last output:\n  ${tail}`);
      },
    );
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

// Every lab step with its spec file, collected by vitest itself (the global setup runs, no step and no fixture does).
export async function listedSteps(
  request: Omit<LabRunRequest, "files">,
): Promise<Pick<StepResult, "file" | "fullName">[]> {
  const listed = await vitestJson<{ name: string; file: string }[]>(
    (json) => ["list", "--project", "labs", "--no-staticParse", `--json=${json}`],
    { ...request, files: [] },
  );
  return listed.map(({ name, file }) => ({ file: relative(ROOT, file), fullName: name }));
}

// One run of the labs project over `files`, read back from vitest's JSON reporter.
export async function labRun(request: LabRunRequest): Promise<LabRun> {
  const report = await vitestJson<JsonReport>(
    (json) => [
      "run",
      "--project",
      "labs",
      "--reporter=json",
      `--outputFile=${json}`,
      "--includeTaskLocation",
      ...request.files,
    ],
    request,
  );
  const unloadable = report.testResults
    .filter(({ assertionResults, message }) => assertionResults.length === 0 && message)
    .map(({ name, message }) => `${relative(ROOT, name)} did not load (${message.split("\n")[0]})`);
  return { steps: stepsOf(report), unloadable };
}
