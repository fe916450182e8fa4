/**
 * Applying a rollout step: by default `pulumi up` of the stack through Pulumi's Automation API
 * (`LocalWorkspace` on the project folder, output streamed line by line), or a shell command
 * given with `--apply` that sees SWITCHYARD_STACK and SWITCHYARD_STEP. A rejection is a failed step.
 */
import { spawn } from "node:child_process";
import type { Stack } from "@pulumi/pulumi/automation";

export type Apply = (label: string) => Promise<void>;

export interface ApplyOptions {
    readonly stack: string;
    /** The Pulumi project folder (where Pulumi.<stack>.yaml is). */
    readonly dir: string;
    /** The tool's own environment (PATH, AWS and Pulumi credentials). */
    readonly env: NodeJS.ProcessEnv;
    /** Receives each output line. */
    readonly out: (line: string) => void;
}

/** `--apply "<command>"`: run through the shell in `dir`; a non-zero exit fails the step. */
export function shellApply(command: string, opts: ApplyOptions): Apply {
    return (label) =>
        new Promise((resolve, reject) => {
            const child = spawn(command, {
                shell: true,
                cwd: opts.dir,
                env: { ...opts.env, SWITCHYARD_STACK: opts.stack, SWITCHYARD_STEP: label },
                stdio: ["ignore", "pipe", "pipe"],
            });
            const flushOut = lineSplitter(opts.out);
            const flushErr = lineSplitter(opts.out);
            child.stdout.on("data", (d: Buffer) => flushOut(d.toString()));
            child.stderr.on("data", (d: Buffer) => flushErr(d.toString()));
            child.on("error", (e) => reject(new Error(`--apply could not start: ${e.message}`)));
            child.on("close", (code, signal) => {
                flushOut(undefined);
                flushErr(undefined);
                if (code === 0) resolve();
                else reject(new Error(`--apply "${command}" ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`));
            });
        });
}

/**
 * The default: `pulumi up --yes --skip-preview` of `stack` in `dir` through the Automation API
 * (LocalWorkspace.selectStack then Stack.up, which run the pulumi CLI found on PATH). The
 * Automation API is loaded only when a step is applied this way.
 */
export function automationApply(opts: ApplyOptions): Apply {
    let selected: Promise<Stack> | undefined;
    return async (label) => {
        // Loaded here, not at start-up: the Automation API pulls in gRPC and is needed only to apply.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { LocalWorkspace } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
        const selecting = (selected ??= LocalWorkspace.selectStack(
            { stackName: opts.stack, workDir: opts.dir },
            { envVars: pulumiEnv(opts.env) },
        ));
        const stack = await selecting.catch((e: unknown) => {
            selected = undefined;
            throw new Error(`pulumi could not select stack ${opts.stack} in ${opts.dir}: ${errorLines(e)}`, { cause: e });
        });
        const flushOut = lineSplitter(opts.out);
        const flushErr = lineSplitter(opts.out);
        try {
            // finish refreshes first: while autoscaled, a colour's desiredCount is ignored and the state keeps
            // the count from before (often 0), so without the real count there may be no diff to scale it down.
            await stack.up({ onOutput: flushOut, onError: flushErr, message: `switchyard rollout: ${label}`, refresh: label === "finish" });
        } catch (e) {
            throw new Error(`pulumi up --stack ${opts.stack} failed: ${errorLines(e)}`, { cause: e });
        } finally {
            flushOut(undefined);
            flushErr(undefined);
        }
    };
}

/** The variables the pulumi CLI is run with, beyond the process's own (only defined ones). */
function pulumiEnv(env: NodeJS.ProcessEnv): Record<string, string> {
    return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string"));
}

/** Feeds text chunks in, calls `out` per complete line; `undefined` flushes the rest. */
function lineSplitter(out: (line: string) => void): (chunk: string | undefined) => void {
    let pending = "";
    return (chunk) => {
        if (chunk === undefined) {
            if (pending.trim() !== "") out(pending.replace(/\r$/, ""));
            pending = "";
            return;
        }
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) out(line.replace(/\r$/, ""));
    };
}

/** The `error:` lines of the CLI's stderr from an Automation API CommandError (`code: … stdout: … stderr: … err?: …`), else its first lines. */
function errorLines(e: unknown): string {
    const text = e instanceof Error ? e.message : String(e);
    const stderr = /\bstderr: ([\s\S]*?)\n err\?:/.exec(text)?.[1];
    const lines = (stderr ?? text)
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    // pulumi prints the cause as `error: ...` lines; without them, the first lines say most.
    const errors = lines.filter((l) => /^error:/i.test(l));
    const shown = (errors.length > 0 ? errors : lines.slice(0, 4)).join(" | ");
    return shown.length > 600 ? `${shown.slice(0, 597)}...` : shown;
}
