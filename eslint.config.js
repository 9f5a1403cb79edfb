import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The layers of helpers/, lowest first: a folder imports only from folders of lower layers (or its own). The lab
// specs stand on helpers/lab alone; scripts, bench and the suite's own specs (unit, reliability) may use any layer.
const LAYERS = [
  ["util"], // lines, polling, timing, signals, pools: no knowledge of engines or labs
  ["catalogue"], // the official images, their stand-ins and references: data
  ["registry"], // a registry's HTTP API and the container that serves one
  ["engine"], // the one engine client, its facts, endpoints, transfers, builds, compose, the docker CLI
  ["stand-ins"], // building the stand-ins from their recipes in images/
  ["run"], // one run: identity, labels, ownership, audit, guardian, its registry, its images
  ["lab"], // what lab specs import
  ["vitest"], // global setup, per-file setup, reporters and the run model they write
  ["child-runs", "private-engines", "registry-mirror"], // tooling: runs of the suite, engines of its own, the mirror
];
const relativeTo = (folders) => `^\\.{1,2}/(\\.\\./)*(helpers/)?(${folders.join("|")})/`;

export default tseslint.config(
  { ignores: ["node_modules/", "reports/"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      // vitest fixtures must destructure their first argument, even when they need nothing from it
      "no-empty-pattern": ["error", { allowObjectPatternsAsParameters: true }],
    },
  },
  ...LAYERS.slice(0, -1).map((folders, index) => ({
    files: folders.map((folder) => `helpers/${folder}/**/*.ts`),
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: relativeTo(LAYERS.slice(index + 1).flat()),
              message: `helpers/${folders.join(", helpers/")} must not import a layer above it (see eslint.config.js)`,
            },
            {
              regex: "^\\.{1,2}/(\\.\\./)*(scripts|bench|specs)/",
              message: "helpers/ never imports scripts, bench or specs",
            },
          ],
        },
      ],
    },
  })),
  {
    files: ["helpers/{child-runs,private-engines,registry-mirror}/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^\\.{1,2}/(\\.\\./)*(scripts|bench|specs)/",
              message: "helpers/ never imports scripts, bench or specs",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["specs/*.spec.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^\\.\\./(?!helpers/lab/)", message: "a lab spec imports only the lab-facing API, helpers/lab" },
          ],
        },
      ],
    },
  },
);
