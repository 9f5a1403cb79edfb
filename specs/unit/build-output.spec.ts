import { describe, expect, it } from "vitest";
import { instructionsOf, numberedSteps, printedStepImages } from "../../helpers/engine/image-build.ts";

describe("a build's numbered steps", () => {
  it("reads the classic builder's steps and leaves its other lines", () => {
    const lines = [
      "Step 1/3 : FROM labs-stand-in/python:3.9",
      " ---> 6c5c5d1dbc54",
      "Step 2/3 : WORKDIR /app",
      " ---> Running in 9b8195b8cc4e",
      'Step 3/3 : RUN python3 -c "import flask"',
      "ModuleNotFoundError: No module named 'flask'",
    ];
    expect(numberedSteps(lines)).toEqual([
      { number: 1, of: 3, instruction: "FROM labs-stand-in/python:3.9" },
      { number: 2, of: 3, instruction: "WORKDIR /app" },
      { number: 3, of: 3, instruction: 'RUN python3 -c "import flask"' },
    ]);
  });

  it("reads Buildah's (Podman's) steps", () => {
    expect(numberedSteps(["STEP 1/2: FROM localhost/python:3.9", 'STEP 2/2: CMD ["python3"]'])).toEqual([
      { number: 1, of: 2, instruction: "FROM localhost/python:3.9" },
      { number: 2, of: 2, instruction: 'CMD ["python3"]' },
    ]);
  });

  it("takes a Dockerfile's instructions as builders count them", () => {
    const dockerfile = '# the app\nFROM python\n\nRUN apt-get update \\\n && apt-get install -y curl\n  CMD ["app"]\n';
    expect(instructionsOf(dockerfile)).toEqual([
      "FROM python",
      "RUN apt-get update  && apt-get install -y curl",
      'CMD ["app"]',
    ]);
  });

  it("reads the step images each builder printed, and not the step containers", () => {
    const classic = [
      " ---> 6c5c5d1dbc54",
      "Step 2/3 : WORKDIR /app",
      " ---> Running in 9b8195b8cc4e",
      " ---> ba11e1ec42cd",
    ];
    expect(printedStepImages(classic)).toEqual(["6c5c5d1dbc54", "ba11e1ec42cd"]);
    // Podman 4.3.1's Buildah, as it printed the failing build of Section 3.1.2.
    const buildah = [
      "STEP 2/6: LABEL labs.build=abc123",
      "--> 7c5fb0629c2",
      "STEP 3/6: WORKDIR /app",
      "--> ba11e1ec42c",
    ];
    expect(printedStepImages(buildah)).toEqual(["7c5fb0629c2", "ba11e1ec42c"]);
  });
});
