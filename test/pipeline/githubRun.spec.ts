// The pipeline run as GitHub would run it (issue 14): deploy.yml's jobs executed step by step
// (test/pipeline/githubRunner.ts) in clean clones of this repository's HEAD, with stand-ins only
// for what GitHub hosts:
//   actions/checkout            = a git clone of a bare repository that plays GitHub's (pushes go there)
//   actions/setup-node, setup-python = this machine's node and python3, but with moto hidden (a
//                                 python3 without site-packages): the test job takes the provisioning path
//   actions/cache               = a miss (nothing restored)
//   aws-actions/configure-aws-credentials = nothing (no AWS account here)
//   pulumi/actions, pulumi CLI  = test/pipeline/recordingPulumi.js on PATH (records the calls, keeps outputs)
// Two more, for time only: the dev jobs' `npm ci` hard-links the node_modules the test job's real
// `npm ci` installed (same lock file), and pip's package index is a closed port, so that the
// provisioning decision is the same on every machine (this one has no PyPI).
// Not run, because they need AWS: the smoke test through the ALB, `verify` and `rollout` (the
// test asserts exactly which steps those are). A release that rollout would finish is stood in by
// the release tool's own edits (flip, finish), committed and applied as rollout-step.sh does.
//
// Run it with `npm run test:pipeline` (about a minute: a real `npm ci`); it is not part of
// `npm test`, which must stay under 40 s.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runJob, type JobRun, type Step } from "./githubRunner";

const root = path.resolve(__dirname, "..", "..");
const realPython = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
const realNpm = execFileSync("bash", ["-c", "command -v npm"], { encoding: "utf8" }).trim();

describe("deploy.yml run as GitHub would run it", function () {
    this.timeout(600_000);
    let tmp: string;
    let bare: string;
    let bin: string;
    let installed: string; // the test job's workspace, whose node_modules the dev jobs reuse
    let record: string;
    let clones = 0;
    let baseSubject: string; // the commit the bare repository starts at

    const git = (cwd: string, ...args: string[]) =>
        execFileSync("git", ["-c", "user.name=dev", "-c", "user.email=dev@example.com", ...args], { cwd, encoding: "utf8" }).trim();
    const pulumiCalls = (): string[][] =>
        existsSync(record)
            ? readFileSync(record, "utf8")
                  .trim()
                  .split("\n")
                  .map((l) => (JSON.parse(l) as { args: string[] }).args)
            : [];

    before(() => {
        tmp = mkdtempSync(path.join(tmpdir(), "github-run-"));
        bare = path.join(tmp, "github.git");
        git(tmp, "clone", "--quiet", "--bare", root, bare);
        baseSubject = git(bare, "log", "-1", "--format=%s", "main");
        bin = path.join(tmp, "bin");
        mkdirSync(bin);
        record = path.join(tmp, "pulumi-calls.jsonl");
        const script = (name: string, body: string) => {
            writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
            chmodSync(path.join(bin, name), 0o755);
        };
        script("pulumi", `exec node ${JSON.stringify(path.join(__dirname, "recordingPulumi.js"))} "$@"`);
        // moto hidden: python3 without site-packages cannot import it (the venv it creates is normal).
        script("python3", `exec ${realPython} -S "$@"`);
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    /** A fresh checkout of main, as actions/checkout gives every job. */
    function checkout(): string {
        const dir = path.join(tmp, `job-${++clones}`);
        git(tmp, "clone", "--quiet", "--branch", "main", bare, dir);
        return dir;
    }

    function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
        const e: NodeJS.ProcessEnv = {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            PULUMI_RECORD: record,
            PULUMI_STATE: path.join(tmp, "pulumi-state.json"),
            GITHUB_REPOSITORY: "owner/switchyard",
            GITHUB_RUN_ID: "1",
            PIP_CONFIG_FILE: "/dev/null",
            PIP_INDEX_URL: "http://127.0.0.1:9/simple",
            PIP_FIND_LINKS: "",
            npm_config_audit: "false",
            npm_config_fund: "false",
            ...extra,
        };
        for (const k of ["SWITCHYARD_MOTO_PYTHON", "PIP_NO_INDEX", "MOCHA_WORKER_ID", "AWS_ENDPOINT_URL"]) delete e[k];
        return e;
    }

    /** Third-party actions: what GitHub hosts, stood in. */
    function standIn(workspace: string) {
        return (step: Step, inputs: Record<string, string>): "success" | "failure" => {
            const action = step.uses!.replace(/@.*$/, "");
            if (
                [
                    "actions/checkout",
                    "actions/setup-node",
                    "actions/setup-python",
                    "actions/cache",
                    "aws-actions/configure-aws-credentials",
                ].includes(action)
            )
                return "success";
            if (action === "pulumi/actions") {
                if (!inputs.command) return "success"; // only installs the CLI: the stand-in is on PATH
                const args = [
                    "actions",
                    inputs.command,
                    "--stack",
                    inputs["stack-name"],
                    ...(inputs.upsert ? ["--upsert", inputs.upsert] : []),
                ];
                return spawnSync(path.join(bin, "pulumi"), args, { cwd: workspace, env: env(), stdio: "ignore" }).status === 0
                    ? "success"
                    : "failure";
            }
            throw new Error(`no stand-in for ${step.uses}`);
        };
    }

    const contexts = (workspace: string) => ({
        github: { ref: "refs/heads/main", sha: "0".repeat(40), run_id: "1", workspace },
        // A self-managed backend (the login step needs one of the two); the stand-in ignores the URL.
        vars: { PULUMI_BACKEND_URL: "s3://stand-in-state" },
        secrets: {},
        inputs: {},
    });

    function devJob(): { run: JobRun; workspace: string } {
        const workspace = checkout();
        // The setup action's `npm ci` (same lock file as the test job's real one): hard links, for time.
        writeFileSync(
            path.join(bin, "npm"),
            `#!/usr/bin/env bash\nif [ "$1" = ci ]; then exec cp -al ${JSON.stringify(path.join(installed, "node_modules"))} node_modules; fi\nexec ${realNpm} "$@"\n`,
        );
        chmodSync(path.join(bin, "npm"), 0o755);
        const run = runJob(path.join(workspace, ".github", "workflows", "deploy.yml"), "dev", {
            workspace,
            env: env(),
            contexts: contexts(workspace),
            standIn: standIn(workspace),
            stopBefore: /^Smoke test the candidate/,
            scratch: mkdtempSync(path.join(tmp, "steps-")),
        });
        rmSync(path.join(bin, "npm"));
        return { run, workspace };
    }
    const step = (run: JobRun, name: RegExp) => run.steps.find((s) => name.test(s.name))!;
    const released = (run: JobRun) => step(run, /^Decide whether to release$/).outputs.release;

    /** What a successful `rollout` leaves (it needs AWS here): the flip and finish edits, each committed and applied. */
    function standInForRollout(workspace: string): void {
        for (const edit of ["flip", "finish"]) {
            const sh = (cmd: string, args: string[]) =>
                execFileSync(cmd, args, { cwd: workspace, env: env(), encoding: "utf8", stdio: "pipe" });
            sh(realNpm, ["run", "--silent", "switchyard", "--", edit, "--stack", "dev"]);
            sh(path.join(workspace, ".github", "scripts", "commit-step.sh"), [`switchyard(dev): ${edit}`, "Pulumi.dev.yaml"]);
            sh(path.join(bin, "pulumi"), ["up", "--yes", "--skip-preview", "--stack", "dev"]);
        }
    }

    /** A person's push to main. */
    function push(message: string, change: (dir: string) => void): void {
        const dir = checkout();
        change(dir);
        git(dir, "add", "-A");
        git(dir, "commit", "--quiet", "-m", message);
        git(dir, "push", "--quiet", "origin", "main");
    }

    it("test job: npm ci, then npm test without moto tries to install the pinned one and, with no package index, stops with the one line", () => {
        installed = checkout();
        const run = runJob(path.join(installed, ".github", "workflows", "deploy.yml"), "test", {
            workspace: installed,
            env: env(),
            contexts: contexts(installed),
            standIn: standIn(installed),
            scratch: mkdtempSync(path.join(tmp, "steps-")),
        });
        assert.deepEqual(
            run.steps.map((s) => [s.name, s.outcome]),
            [
                ["actions/checkout@v4", "success"],
                ["actions/setup-node@v4", "success"],
                ["actions/setup-python@v5", "success"],
                ["actions/cache@v4", "success"],
                ["npm ci", "success"],
                ["npm test", "failure"],
                ["npm run lint", "skipped"],
            ],
        );
        const out = step(run, /^npm test$/).output;
        assert.match(out, /^moto: python3 has no moto, not 5\.2\.1; installing moto-requirements\.txt into \.venv-moto \(once\)$/m);
        assert.match(
            out,
            /^\[mocha\] global setup failed:\nmoto: no package index reachable to install moto\[server\]==5\.2\.1 \(pip: No matching distribution found for annotated-types==0\.7\.0\); allow access to PyPI or set PIP_INDEX_URL to a mirror, or run: python3 -m pip install -r test\/moto-requirements\.txt$/m,
        );
        assert.equal(existsSync(path.join(installed, ".venv-moto")), false);
    });

    it("dev job, first push on a fresh backend: creates the stack (upsert), no start, no release", () => {
        const { run } = devJob();
        assert.equal(run.failed, false, run.steps.map((s) => `${s.name}: ${s.outcome}\n${s.output}`).join("\n"));
        assert.equal(step(run, /^switchyard start/).outcome, "skipped");
        assert.deepEqual(
            pulumiCalls().filter((a) => a[0] === "actions" || a[0] === "up"),
            [["actions", "up", "--stack", "dev", "--upsert", "true"]],
        );
        assert.equal(released(run), "false");
        assert.deepEqual(run.notRun, [
            "Smoke test the candidate through the test listener",
            "switchyard verify --stack dev",
            "switchyard rollout --stack dev",
            "Stack outputs after the release",
            "Roll back dev after a failed, cancelled or timed-out rollout",
        ]);
    });

    it("dev job, two pushes, the second with ./app unchanged: one release, not two", () => {
        push("app: a new page", (dir) => appendFileSync(path.join(dir, "app", "server.js"), "\n// a change to the app\n"));
        const first = devJob();
        assert.equal(first.run.failed, false, first.run.steps.map((s) => `${s.name}: ${s.outcome}\n${s.output}`).join("\n"));
        assert.equal(step(first.run, /^switchyard start/).outcome, "success");
        assert.equal(released(first.run), "true");
        standInForRollout(first.workspace);

        push("docs: a typo", (dir) => appendFileSync(path.join(dir, "README.md"), "\n"));
        const second = devJob();
        assert.equal(second.run.failed, false, second.run.steps.map((s) => `${s.name}: ${s.outcome}\n${s.output}`).join("\n"));
        assert.equal(released(second.run), "false", step(second.run, /^switchyard start/).output);
        const subjects = git(bare, "log", "--format=%s", "main").split("\n");
        assert.deepEqual(subjects.slice(0, 6), [
            "docs: a typo",
            "switchyard(dev): finish [skip ci]",
            "switchyard(dev): flip [skip ci]",
            "switchyard(dev): start --build ./app --stack dev [skip ci]",
            "app: a new page",
            baseSubject,
        ]);
    });
});
