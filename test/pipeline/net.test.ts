// The rollback net of deploy.yml (issue 14, item 9): its `if` evaluated for every way a rollout
// step can end, and the script it runs (release-step.sh: rollback, commit, sync) run for real
// with a recording `npm` and a throw-away git remote.
// GitHub: a cancelled job runs only steps whose `if` holds under always() or cancelled(), for at
// most 5 minutes after the cancellation
// (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-cancellation);
// steps.<id>.outcome is success, failure, cancelled or skipped
// (https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#steps-context);
// a step's own timeout-minutes fails that step ("The action ... has timed out after N minutes"),
// while the job's timeout-minutes cancels the job
// (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepstimeout-minutes).
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { EXIT } from "../../cli/exitCodes";
import { evaluate, type JobState } from "./expressions";

const root = path.resolve(__dirname, "..", "..");
type Step = { id?: string; name?: string; if?: string; run?: string; "timeout-minutes"?: number };
type Job = { steps: Step[]; "timeout-minutes"?: number };
const deploy = parse(readFileSync(path.join(root, ".github", "workflows", "deploy.yml"), "utf8")) as { jobs: Record<string, Job> };

/** How the rollout step ended, and what GitHub knows about the job then. */
const endings: Array<{ name: string; runsNet: boolean; state: JobState }> = [
    { name: "done or paused (exit 0)", runsNet: false, state: ended("success", EXIT.ok) },
    { name: "rolled back cleanly (exit 1)", runsNet: false, state: ended("failure", EXIT.refused) },
    { name: "refused, nothing changed (exit 2)", runsNet: false, state: ended("failure", EXIT.usage) },
    { name: "a person must act (exit 3)", runsNet: true, state: ended("failure", EXIT.personMustAct) },
    { name: "crashed (exit 4)", runsNet: true, state: ended("failure", EXIT.crashed) },
    { name: "interrupted (exit 130)", runsNet: true, state: ended("failure", EXIT.interrupted) },
    { name: "the step timed out (killed: no status)", runsNet: true, state: ended("failure") },
    { name: "the run was cancelled during the step (no status)", runsNet: true, state: { ...ended("cancelled"), cancelled: true } },
    { name: "the job timed out during the step (cancelled, no status)", runsNet: true, state: { ...ended("cancelled"), cancelled: true } },
    { name: "no release: the step was skipped", runsNet: false, state: ended("skipped") },
    {
        name: "an earlier step failed (no rollout ran)",
        runsNet: false,
        state: { failed: true, cancelled: false, contexts: { steps: { plan: { outcome: "success", outputs: { release: "true" } } } } },
    },
    { name: "cancelled before the rollout started", runsNet: false, state: { failed: false, cancelled: true, contexts: { steps: {} } } },
];

function ended(outcome: "success" | "failure" | "cancelled" | "skipped", status?: number): JobState {
    const outputs = status === undefined ? {} : { status: String(status) };
    return { failed: outcome === "failure", cancelled: false, contexts: { steps: { rollout: { outcome, outputs } } } };
}

describe("deploy.yml: the rollback net", () => {
    for (const [jobName, stack] of [
        ["dev", "dev"],
        ["prod", "prod"],
    ] as const) {
        describe(`job ${jobName}`, () => {
            const job = deploy.jobs[jobName];
            const net = job.steps.find((s) => s.run === `.github/scripts/release-step.sh ${stack} rollback --stack ${stack}`);
            const rollout = job.steps.find((s) => s.id === "rollout");

            for (const { name, runsNet, state } of endings)
                it(`${runsNet ? "runs" : "does not run"} when the rollout step ends: ${name}`, () => {
                    assert.ok(net?.if, "the net step");
                    assert.equal(evaluate(net.if, state), runsNet);
                });

            it("gives the rollout step its own time-out, 40 minutes inside the job's, so a slow rollout fails and the net still has time", () => {
                assert.equal(rollout?.["timeout-minutes"], 90);
                assert.equal(job["timeout-minutes"], 150);
            });

            it("the net comes after the rollout step", () => {
                assert.ok(job.steps.indexOf(net!) > job.steps.indexOf(rollout!));
            });
        });
    }

    describe("release-step.sh (the net's and rollback.yml's step)", function () {
        this.timeout(30_000);
        let tmp: string;
        let work: string;
        let remote: string;
        beforeEach(() => {
            tmp = mkdtempSync(path.join(tmpdir(), "release-step-"));
            remote = path.join(tmp, "remote.git");
            work = path.join(tmp, "work");
            const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, stdio: "ignore" });
            git(tmp, "init", "--quiet", "--bare", "--initial-branch=main", remote);
            git(tmp, "clone", "--quiet", remote, work);
            git(work, "checkout", "--quiet", "-b", "main");
            writeFileSync(path.join(work, "Pulumi.dev.yaml"), "config:\n  live: green\n");
            git(work, "add", ".");
            git(work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "init");
            git(work, "push", "--quiet", "origin", "main");
        });
        afterEach(() => rmSync(tmp, { recursive: true, force: true }));

        /** `npm` stand-in: records each call; `rollback` writes what ROLLBACK_WRITES says (nothing when empty) and exits ROLLBACK_EXIT. */
        function run(rollbackWrites: string, rollbackExit = 0) {
            const bin = path.join(tmp, "bin");
            mkdirSync(bin, { recursive: true });
            writeFileSync(
                path.join(bin, "npm"),
                [
                    "#!/usr/bin/env bash",
                    `echo "npm $*" >> "${tmp}/calls.log"`,
                    `if [ "$4" = rollback ]; then [ -z "$ROLLBACK_WRITES" ] || printf '%s' "$ROLLBACK_WRITES" > Pulumi.dev.yaml; exit "$ROLLBACK_EXIT"; fi`,
                ].join("\n"),
            );
            chmodSync(path.join(bin, "npm"), 0o755);
            const r = spawnSync(path.join(root, ".github", "scripts", "release-step.sh"), ["dev", "rollback", "--stack", "dev"], {
                cwd: work,
                encoding: "utf8",
                env: {
                    ...process.env,
                    PATH: `${bin}:${process.env.PATH}`,
                    ROLLBACK_WRITES: rollbackWrites,
                    ROLLBACK_EXIT: String(rollbackExit),
                },
            });
            const calls = readFileSync(path.join(tmp, "calls.log"), "utf8").trim().split("\n");
            const log = execFileSync("git", ["log", "--format=%s", "main"], { cwd: remote, encoding: "utf8" }).trim().split("\n");
            return { status: r.status, calls, log, out: r.stdout + r.stderr };
        }
        const sync = () => `npm run switchyard -- sync --stack dev --apply ${path.join(root, ".github", "scripts", "rollout-step.sh")}`;

        it("rolls back, commits the edit, then applies the file with sync", () => {
            const r = run("config:\n  live: blue\n");
            assert.equal(r.status, 0, r.out);
            assert.deepEqual(r.calls, ["npm run switchyard -- rollback --stack dev", sync()]);
            assert.deepEqual(r.log, ["switchyard(dev): rollback --stack dev [skip ci]", "init"]);
        });

        it("with nothing left to edit (a rollback written but never applied: rollout exit 3), still applies with sync", () => {
            const r = run("");
            assert.equal(r.status, 0, r.out);
            assert.deepEqual(r.calls, ["npm run switchyard -- rollback --stack dev", sync()]);
            assert.deepEqual(r.log, ["init"]);
        });

        it("stops with the edit's exit code when the edit fails, applying nothing", () => {
            const r = run("", EXIT.usage);
            assert.equal(r.status, EXIT.usage, r.out);
            assert.deepEqual(r.calls, ["npm run switchyard -- rollback --stack dev"]);
        });
    });
});
