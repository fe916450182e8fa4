/**
 * Applying the stack file (a rollout step, or `sync`): by default `pulumi up` of the stack through
 * Pulumi's Automation API (`LocalWorkspace` on the project folder, output streamed line by line),
 * or a shell command given with `--apply` that sees SWITCHYARD_STACK and SWITCHYARD_STEP. A
 * rejection is a failed step; its ApplyError says how it failed.
 */
import { spawn } from "node:child_process";
import type { Stack } from "@pulumi/pulumi/automation";

/** Applies the file for `label`; aborting `stop` stops the apply's processes (a second Ctrl-C). */
export type Apply = (label: string, stop?: AbortSignal) => Promise<void>;

/**
 * How an apply failed: `failed` (it ran and failed), `concurrent` (the Pulumi backend refused it:
 * another update of the stack is in progress, so AWS is being changed by someone else), or
 * `stopped` (its processes were stopped through the `stop` signal).
 */
export class ApplyError extends Error {
    constructor(
        message: string,
        readonly kind: "failed" | "concurrent" | "stopped",
        options?: { cause?: unknown },
    ) {
        super(message, options);
        this.name = "ApplyError";
    }
}

/**
 * The exit code an `--apply` command uses to say "the Pulumi backend refused: another update of the
 * stack is in progress" (EX_TEMPFAIL, sysexits.h): rollout and sync then wait and try again
 * (`waitingOutConcurrentUpdates`). .github/scripts/rollout-step.sh maps pulumi's own refusal to it.
 */
export const CONCURRENT_UPDATE_EXIT = 75;

/** Milliseconds a stopped --apply command's process group gets after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 5000;

/**
 * `finish` and `sync` refresh first. finish: while autoscaled, a colour's desiredCount is ignored
 * and the state keeps the count from before (often 0), so without the real count there may be no
 * diff to scale it down. sync: it is the recovery after an apply that failed or was killed, when
 * the state may not be what AWS holds; refreshing makes the update start from AWS as it is.
 */
export function refreshesFirst(label: string): boolean {
    return label === "finish" || label === "sync";
}

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
    return (label, stop) =>
        new Promise((resolve, reject) => {
            // Its own process group (detached), so stopping it reaches every process the command
            // started (`sh -c "a | b"`, a script's children), not only the shell.
            const child = spawn(command, {
                shell: true,
                detached: true,
                cwd: opts.dir,
                env: { ...opts.env, SWITCHYARD_STACK: opts.stack, SWITCHYARD_STEP: label },
                stdio: ["ignore", "pipe", "pipe"],
            });
            const flushOut = lineSplitter(opts.out);
            const flushErr = lineSplitter(opts.out);
            child.stdout.on("data", (d: Buffer) => flushOut(d.toString()));
            child.stderr.on("data", (d: Buffer) => flushErr(d.toString()));
            let stopped = false;
            let killTimer: NodeJS.Timeout | undefined;
            const signalGroup = (signal: NodeJS.Signals) => {
                try {
                    process.kill(-child.pid!, signal);
                } catch {
                    // the group has already exited
                }
            };
            const onStop = () => {
                stopped = true;
                signalGroup("SIGTERM");
                killTimer = setTimeout(() => signalGroup("SIGKILL"), STOP_GRACE_MS);
            };
            if (stop?.aborted) onStop();
            else stop?.addEventListener("abort", onStop, { once: true });
            child.on("error", (e) => reject(new ApplyError(`--apply could not start: ${e.message}`, "failed")));
            child.on("close", (code, signal) => {
                clearTimeout(killTimer);
                stop?.removeEventListener("abort", onStop);
                flushOut(undefined);
                flushErr(undefined);
                if (stopped) reject(new ApplyError(`--apply "${command}" was stopped (SIGTERM to its process group)`, "stopped"));
                else if (code === 0) resolve();
                else if (code === CONCURRENT_UPDATE_EXIT)
                    reject(new ApplyError(`--apply "${command}": another update of the stack is in progress (exit ${code})`, "concurrent"));
                else
                    reject(
                        new ApplyError(`--apply "${command}" ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`, "failed"),
                    );
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
    return async (label, stop) => {
        // Loaded here, not at start-up: the Automation API pulls in gRPC and is needed only to apply.
        type Automation = typeof import("@pulumi/pulumi/automation");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { ConcurrentUpdateError, LocalWorkspace } = require("@pulumi/pulumi/automation") as Automation;
        const selecting = (selected ??= LocalWorkspace.selectStack(
            { stackName: opts.stack, workDir: opts.dir },
            { envVars: pulumiEnv(opts.env) },
        ));
        const stack = await selecting.catch((e: unknown) => {
            selected = undefined;
            throw new ApplyError(`pulumi could not select stack ${opts.stack} in ${opts.dir}: ${errorLines(e)}`, "failed", { cause: e });
        });
        const flushOut = lineSplitter(opts.out);
        const flushErr = lineSplitter(opts.out);
        try {
            // `signal`: the Automation API sends the pulumi CLI SIGINT when it aborts, and pulumi then
            // cancels the update (node_modules/@pulumi/pulumi/automation/cmd.js, exec).
            await stack.up({
                onOutput: flushOut,
                onError: flushErr,
                message: `switchyard ${label === "sync" ? "sync" : `rollout: ${label}`}`,
                refresh: refreshesFirst(label),
                signal: stop,
            });
        } catch (e) {
            if (stop?.aborted)
                throw new ApplyError(`pulumi up --stack ${opts.stack} was stopped (SIGINT): ${errorLines(e)}`, "stopped", { cause: e });
            // The backend refused the update: "[409] Conflict: Another update is currently in progress." (Pulumi
            // Cloud) or "the stack is currently locked by" (a DIY backend) in pulumi's stderr, which the
            // Automation API reports as ConcurrentUpdateError (node_modules/@pulumi/pulumi/automation/errors.js).
            if (e instanceof ConcurrentUpdateError) {
                throw new ApplyError(
                    `pulumi up --stack ${opts.stack} was refused: another update is in progress (${errorLines(e)})`,
                    "concurrent",
                    {
                        cause: e,
                    },
                );
            }
            throw new ApplyError(`pulumi up --stack ${opts.stack} failed: ${errorLines(e)}`, "failed", { cause: e });
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

/**
 * Applies again while the backend refuses because another update of the stack is in progress:
 * one stack holds many services, each service's rollout has its own lock, and every step is a
 * `pulumi up` of the whole stack, so two services' rollouts meet at the backend's stack lock. The
 * other update ends within minutes; refusing at once would leave a step (or a rollback) unapplied.
 * Waits 5 s, doubling up to 60 s, for at most `maxWaitMs`; then the refusal stands (a person must
 * act). A stop (second Ctrl-C) ends the wait at once.
 */
export function waitingOutConcurrentUpdates(
    apply: Apply,
    opts: {
        readonly out: (line: string) => void;
        readonly maxWaitMs?: number;
        readonly sleep?: (ms: number, stop?: AbortSignal) => Promise<void>;
        readonly now?: () => number;
    },
): Apply {
    const maxWaitMs = opts.maxWaitMs ?? 15 * 60 * 1000;
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? abortableSleep;
    return async (label, stop) => {
        const start = now();
        for (let delay = 5000; ; delay = Math.min(delay * 2, 60000)) {
            try {
                return await apply(label, stop);
            } catch (e) {
                if (!(e instanceof ApplyError) || e.kind !== "concurrent" || stop?.aborted) throw e;
                const waited = now() - start;
                if (waited + delay > maxWaitMs) throw e;
                opts.out(`${label}: another update of the stack is in progress; applying again in ${delay / 1000} s`);
                await sleep(delay, stop);
                if (stop?.aborted) throw new ApplyError(`${label}: stopped while waiting for another update to end`, "stopped");
            }
        }
    };
}

function abortableSleep(ms: number, stop?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        stop?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
}
