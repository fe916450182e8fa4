/**
 * Evaluates the Pulumi program (index) under the runtime mocks with a given stack name and
 * configuration, the way `pulumi up` would, and returns what it registered and exported.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { BuildAssumption, Recorded, assumeBuild, registered, resetRecorded, settle, useStack } from "./mocks";

/**
 * The program's entry point, two folders up from this file. Resolved without an extension so
 * the same code finds index.ts under ts-node and index.js in a transpiled build.
 */
const INDEX = require.resolve(path.join(__dirname, "..", "..", "index"));

/** A stack's config as Pulumi passes it to the program: flat keys, objects JSON-encoded. */
export type FlatConfig = Record<string, string>;

export function flatten(config: Record<string, unknown>): FlatConfig {
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

export interface Evaluation {
    readonly resources: Recorded[];
    readonly outputs: Record<string, unknown>;
}

/**
 * Runs the program afresh for `stack` with a stack file's `config:` map and waits for every
 * registration. A configuration error rejects with the program's own error (a ConfigError).
 *
 * `projectDir`: the folder the program runs in, as `pulumi up` runs it in the project folder
 * ("By default, the program's working directory is assumed to be the location of Pulumi.yaml",
 * https://github.com/pulumi/pulumi-hugo/pull/1208, reference/pulumi-yaml.md): relative paths
 * such as a build context are resolved against it. Default: the current working directory.
 */
export async function evaluate(
    stack: string,
    config: Record<string, unknown>,
    build: BuildAssumption = {},
    projectDir?: string,
): Promise<Evaluation> {
    const workingDir = process.cwd();
    if (projectDir !== undefined) process.chdir(projectDir);
    try {
        return await evaluateHere(stack, config, build);
    } finally {
        process.chdir(workingDir);
    }
}

async function evaluateHere(stack: string, config: Record<string, unknown>, build: BuildAssumption): Promise<Evaluation> {
    await useStack(stack);
    assumeBuild(build);
    pulumi.runtime.setAllConfig(flatten(config));
    resetRecorded();
    // Only index reads config; components and lib are pure on load, so they stay cached.
    delete require.cache[INDEX];
    // The SDK records a stack trace for every promise it makes (for leak reports); with ts-node's
    // source maps that is most of an evaluation's time, and nothing here reads those traces.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- re-runs index, which import cannot
        const program = require(INDEX);
        const outputs: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(program)) {
            outputs[key] = await resolveDeep(value);
        }
        await settle();
        return { resources: registered(), outputs };
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
}

async function resolveDeep(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        return new Promise((resolve) => (value as pulumi.Output<unknown>).apply((v) => resolve(v)));
    }
    if (value && typeof value === "object" && !Array.isArray(value)) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = await resolveDeep(v);
        return out;
    }
    return value;
}

/** The one resource of a type whose name ends with `suffix`; fails loudly otherwise. */
export function one(resources: Recorded[], type: string, suffix: string): Recorded {
    const found = resources.filter((r) => r.type === type && r.name.endsWith(suffix));
    if (found.length !== 1) {
        throw new Error(`expected one ${type} named *${suffix}, found ${found.map((r) => r.name).join(", ") || "none"}`);
    }
    return found[0];
}

export function ofType(resources: Recorded[], type: string): Recorded[] {
    return resources.filter((r) => r.type === type);
}
