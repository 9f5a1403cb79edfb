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
);
