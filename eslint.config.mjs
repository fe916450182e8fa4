// ESLint (flat config) with typescript-eslint's recommended rules; prettier owns formatting.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const node = {
    require: "readonly",
    module: "writable",
    process: "readonly",
    console: "readonly",
    __dirname: "readonly",
    Buffer: "readonly",
    URL: "readonly",
    setTimeout: "readonly",
    clearTimeout: "readonly",
    setInterval: "readonly",
    clearInterval: "readonly",
    setImmediate: "readonly",
};

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "policy/node_modules/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        languageOptions: { globals: node },
        rules: {
            // Pulumi mocks and YAML documents are untyped at their edges; `any` there is deliberate.
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    {
        // The sample server is plain CommonJS with no build step.
        files: ["app/**/*.js"],
        languageOptions: { sourceType: "commonjs" },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
