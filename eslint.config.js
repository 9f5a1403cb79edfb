import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
  {
    // The lab-facing API (helpers/lab) is built on the run's harness, never the other way round. lab-setup.ts is the
    // exception by design: vitest loads it into each lab file's worker, where it reads what that file's labs used.
    files: ["helpers/{engine,run,catalogue,vitest,child-runs,util,registry-mirror}/**/*.ts"],
    ignores: ["helpers/vitest/lab-setup.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["**/lab/*"], message: "the harness must not import the lab-facing API" }] },
      ],
    },
  },
  {
    // The registry module sits below the engine client, which asks registries through it: it uses only utilities.
    files: ["helpers/registry/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\.\\./(?!util/)", message: "helpers/registry imports only helpers/util" }] },
      ],
    },
  },
);
