/**
 * Preloaded (node --require) by test/policy/pack.test.ts into the policy pack's process: Pulumi's
 * run-policy-pack registers ts-node with `typeCheck: true` (@pulumi/pulumi/cmd/run-policy-pack/run.js),
 * which type-checks the pack against @pulumi/aws on every start (about 10 s). The test checks what
 * the pack does, and `tsc --noEmit` in .ci/run checks its types, so here ts-node only transpiles.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload, before any TypeScript */
const tsNode = require("ts-node");
const register = tsNode.register;
tsNode.register = (options = {}) => register({ ...options, typeCheck: false, transpileOnly: true });
