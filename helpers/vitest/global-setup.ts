import { experimental_getRunnerTask, type TestProject } from "vitest/node";
import { autoFallbackLine, planImages, describeImage } from "../catalogue/plan.ts";
import type { StandIn } from "../catalogue/entries.ts";
import { assertPlatformRuns, resolveImage } from "../run/resolve-images.ts";
import { buildMissingStandIns, officialAvailability } from "../run/auto-images.ts";
import { imagesOfSelectedSpecs } from "../catalogue/selection.ts";
import { imageMapFrom, imageSourceFrom, labPlatform } from "../catalogue/settings.ts";
import { engineClient, pinLocalEngineHost } from "../engine/client.ts";
import { isEngineLost } from "../engine/lost.ts";
import { describeEngine, describeRunner, engineFacts, runnerFacts, type Engine } from "../engine/facts.ts";
import { assertBookPortsFree } from "../run/book-ports.ts";
import { startRunAudit } from "../run/audit.ts";
import { newRunId } from "../run/identity.ts";
import { startRunRegistry } from "../run/run-registry.ts";
import { startGuardian, sweepEndedRuns } from "../run/sweep.ts";
import { explainExit } from "./exit-reasons.ts";

// Ryuk's image comes from Docker Hub; where that does not answer, the guardian and the final audit do its job.
function disableRyukWithoutDockerHub(source: string, selected: StandIn[], unavailable: Map<string, string>): void {
  const dockerHubAnswers = selected.some(
    ({ official }) => !official.startsWith("gcr.io/") && !unavailable.has(official),
  );
  if (process.env.TESTCONTAINERS_RYUK_DISABLED || source === "official" || (source === "auto" && dockerHubAnswers))
    return;
  process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
  console.log("teardown: Ryuk's image cannot be pulled here; the suite's own guardian and audit remove what it starts");
}

export default async function setup(project: TestProject) {
  const runId = newRunId();
  let audit: Awaited<ReturnType<typeof startRunAudit>>;
  let engine: Engine;
  let exit: ReturnType<typeof explainExit> | undefined;
  let registry: Awaited<ReturnType<typeof startRunRegistry>> | undefined;
  try {
    pinLocalEngineHost();
    const client = await engineClient();
    const docker = client.container.dockerode;
    engine = await engineFacts(client);
    const runner = runnerFacts();
    if (!engine.remote) await assertBookPortsFree();
    const [source, map, platform] = [imageSourceFrom(), imageMapFrom(), labPlatform()];
    const selected = await imagesOfSelectedSpecs(project);
    const unavailable = source === "auto" ? await officialAvailability(docker, selected) : new Map<string, string>();
    const fallback = autoFallbackLine(unavailable);
    if (fallback) console.log(fallback);
    disableRyukWithoutDockerHub(source, selected, unavailable);
    const swept = await sweepEndedRuns(docker);
    if (swept.length) console.log(`sweep: removed what ended runs left behind: ${swept.join("; ")}`);
    startGuardian(runId);
    const plans = planImages(source, map, (official) => !unavailable.has(official), selected);
    if (source === "auto") await buildMissingStandIns(docker, plans);
    const images = await Promise.all(
      plans.map((plan) => resolveImage(docker, plan, plan.official === "mysql:5.7" ? platform : undefined)),
    );
    const [mysql, registryImage, debian] = ["mysql:5.7", "registry:2", "debian:bullseye"].map((name) =>
      images.find(({ official }) => official === name),
    );
    const [proof, started] = await Promise.allSettled([
      mysql && assertPlatformRuns(docker, mysql, platform, runId, `${engine.os}/${engine.arch}`),
      registryImage && startRunRegistry(registryImage.ref, runId, debian?.ref, engine.product),
    ]);
    registry = started.status === "fulfilled" ? started.value : undefined;
    if (proof.status === "rejected") throw proof.reason;
    if (started.status === "rejected") throw started.reason;
    audit = await startRunAudit(docker, runId, (error) => {
      const steps = project.vitest.state
        .getTestModules()
        .flatMap((module) => [...module.children.allTests()])
        // A step the loss broke can have failed on it before the engine's event stream ended.
        .filter((test) => {
          const result = experimental_getRunnerTask(test).result;
          return result?.state === "run" || (result?.state === "fail" && (result.errors ?? []).some(isEngineLost));
        })
        .map(({ fullName }) => fullName);
      console.error(
        `engine: lost ${engine.endpoint} (${error.message})${steps.length ? ` during ${steps.join("; ")}` : ""}; ` +
          `stopping the labs; the guardian removes what run ${runId} left once the engine answers again`,
      );
      exit?.cancelled(`the engine ${engine.endpoint} went away`);
      void project.vitest.cancelCurrentRun("engine-lost" as Parameters<typeof project.vitest.cancelCurrentRun>[0]);
    });

    console.log(
      `engine: ${describeEngine(engine)}; ${describeRunner(runner)}; images: LABS_IMAGES=${source}` +
        `${map.size ? `, LABS_IMAGE_MAP maps ${map.size}` : ""}; run ${runId}`,
    );
    for (const image of images) console.log(`image: ${describeImage(image)}`);
    project.provide("runId", runId);
    project.provide("engine", engine);
    project.provide("runner", runner);
    project.provide("images", images);
    project.provide("registry", registry?.registry);
    // From here on, a run that exits non-zero says why; a setup that stopped has said it in its one line.
    exit = explainExit(project);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    if (process.env.LABS_DEBUG) console.error(error);
    await registry?.stop().catch(() => undefined);
    process.exit(1);
  }

  return () =>
    exit!.teardown(async () => {
      await registry?.stop();
      const problems = await audit.finish();
      if (problems.length > 0) throw new Error(problems.join("\n"));
      const on = engine.remote ? `${engine.publishAddress} (or the engine's own 127.0.0.1)` : engine.publishAddress;
      console.log(`teardown: nothing of run ${runId} is left on the engine; every published port was on ${on}`);
    });
}
