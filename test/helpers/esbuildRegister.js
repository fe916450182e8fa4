/**
 * mocha's TypeScript loader (.mocharc.json `require`): each .ts file is compiled on load with
 * esbuild's transform (types stripped, CommonJS), as cli/launch.js compiles the release tool. It
 * replaces ts-node's transpile-only mode, which spends seconds per mocha worker in TypeScript's
 * own transpiler; neither type-checks (tsc --noEmit in .ci/run does). Class fields keep the
 * semantics tsconfig.json's target ES2022 gives them (esbuild's target node20 defines them the
 * same way). Stack traces point into the .ts files through inline source maps.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded by mocha before any TypeScript */
"use strict";
const fs = require("node:fs");
const esbuild = require("esbuild");

process.setSourceMapsEnabled(true);
require.extensions[".ts"] = (module, filename) => {
    const { code } = esbuild.transformSync(fs.readFileSync(filename, "utf8"), {
        loader: "ts",
        format: "cjs",
        target: "node20",
        sourcemap: "inline",
        sourcefile: filename,
    });
    module._compile(code, filename);
};
