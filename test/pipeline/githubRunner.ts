/**
 * Runs one job of a workflow the way a GitHub runner does, on this machine: its steps in order,
 * local composite actions expanded, each `if` evaluated (default success()), `${{ }}` replaced in
 * `run`, `env` and `with`, `run:` steps in `bash --noprofile --norc -eo pipefail` (GitHub's bash
 * default: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell)
 * with GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE, and `steps.<id>.outputs` read back.
 * Third-party actions are what GitHub hosts; `standIn` decides what each does here.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { evaluate, interpolate, type JobState } from "./expressions";

export interface Step {
    id?: string;
    name?: string;
    if?: string;
    uses?: string;
    run?: string;
    shell?: string;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
}
interface Job {
    env?: Record<string, unknown>;
    steps: Step[];
}

export interface StepResult {
    readonly name: string;
    readonly outcome: "success" | "failure" | "skipped";
    readonly outputs: Record<string, string>;
    readonly output: string;
}

export interface RunOptions {
    /** The checked-out repository (the job's workspace). */
    readonly workspace: string;
    readonly env: NodeJS.ProcessEnv;
    /** vars, secrets, inputs, github: the contexts GitHub gives the job. */
    readonly contexts: Record<string, unknown>;
    /** What a third-party action (`uses: owner/name@v`) does here; return its outcome. */
    readonly standIn: (step: Step, inputs: Record<string, string>) => "success" | "failure";
    /** Stop before the first step whose name matches (steps that need what this machine lacks). */
    readonly stopBefore?: RegExp;
    readonly scratch: string;
}

export interface JobRun {
    readonly steps: StepResult[];
    /** The names of the steps not run because of `stopBefore`. */
    readonly notRun: string[];
    readonly failed: boolean;
}

export function runJob(workflowFile: string, jobName: string, opts: RunOptions): JobRun {
    const workflow = parse(readFileSync(workflowFile, "utf8")) as { env?: Record<string, unknown>; jobs: Record<string, Job> };
    const job = workflow.jobs[jobName];
    const results: StepResult[] = [];
    const stepsContext: Record<string, { outcome: string; conclusion: string; outputs: Record<string, string> }> = {};
    let failed = false;
    const state = (extra: Record<string, unknown> = {}): JobState => ({
        failed,
        cancelled: false,
        contexts: { ...opts.contexts, steps: stepsContext, runner: { os: "Linux" }, ...extra },
    });
    const baseEnv = { ...(workflow.env ?? {}), ...(job.env ?? {}) };
    let counter = 0;

    const notRun: string[] = [];
    const runSteps = (steps: Step[], inputs: Record<string, string> | undefined, prefix: string): boolean => {
        for (const [i, step] of steps.entries()) {
            const name = prefix + (step.name ?? step.uses ?? step.run?.split("\n")[0] ?? "step");
            const scope = inputs ? { inputs } : {};
            if (opts.stopBefore?.test(name)) {
                notRun.push(...steps.slice(i).map((s) => prefix + (s.name ?? s.uses ?? s.run?.split("\n")[0] ?? "step")));
                return false;
            }
            // An `if` without a status function means success() && (if).
            const condition = step.if ?? "success()";
            const implicit = !/\b(success|failure|cancelled|always)\(\)/.test(condition);
            if (!evaluate(implicit ? `success() && (${condition})` : condition, state(scope))) {
                results.push({ name, outcome: "skipped", outputs: {}, output: "" });
                if (step.id) stepsContext[step.id] = { outcome: "skipped", conclusion: "skipped", outputs: {} };
                continue;
            }
            const env: Record<string, string> = {};
            for (const [k, v] of Object.entries({ ...baseEnv, ...(step.env ?? {}) })) env[k] = interpolate(String(v), state(scope));
            const withs: Record<string, string> = {};
            for (const [k, v] of Object.entries(step.with ?? {})) withs[k] = interpolate(String(v), state(scope));
            let outcome: "success" | "failure";
            let output = "";
            const outputs: Record<string, string> = {};
            if (step.uses?.startsWith("./")) {
                const file = ["action.yml", "action.yaml"].map((f) => path.join(opts.workspace, step.uses!, f)).find(existsSync)!;
                const action = parse(readFileSync(file, "utf8")) as {
                    inputs?: Record<string, { default?: string }>;
                    runs: { steps: Step[] };
                };
                const actionInputs = Object.fromEntries(
                    Object.entries(action.inputs ?? {}).map(([k, spec]) => [k, withs[k] ?? spec.default ?? ""]),
                );
                const ok = runSteps(action.runs.steps, actionInputs, `${name} > `);
                outcome = ok && !failed ? "success" : "failure";
            } else if (step.uses) {
                outcome = opts.standIn(step, withs);
            } else {
                const outFile = path.join(opts.scratch, `output-${++counter}`);
                writeFileSync(outFile, "");
                const script = interpolate(step.run!, state(scope));
                const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
                    cwd: opts.workspace,
                    env: {
                        ...opts.env,
                        ...env,
                        GITHUB_OUTPUT: outFile,
                        GITHUB_STEP_SUMMARY: path.join(opts.scratch, "summary.md"),
                        GITHUB_WORKSPACE: opts.workspace,
                    },
                    encoding: "utf8",
                    maxBuffer: 64 * 1024 * 1024,
                });
                output = (r.stdout ?? "") + (r.stderr ?? "");
                outcome = r.status === 0 ? "success" : "failure";
                for (const line of readFileSync(outFile, "utf8").split("\n")) {
                    const eq = line.indexOf("=");
                    if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
                }
            }
            if (outcome === "failure") failed = true;
            results.push({ name, outcome, outputs, output });
            if (step.id) stepsContext[step.id] = { outcome, conclusion: outcome, outputs };
        }
        return true;
    };

    runSteps(job.steps, undefined, "");
    return { steps: results, notRun, failed };
}
