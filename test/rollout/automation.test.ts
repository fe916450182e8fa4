/**
 * The default apply (lib/rollout/apply.ts) up to the CLI boundary: Pulumi's Automation API runs
 * a stand-in `pulumi` executable put first on PATH, which records the arguments and folder of
 * every call and answers like the CLI would. A real `pulumi up` is NOT run here (no Pulumi CLI,
 * no AWS on this machine); this proves which stack, folder and options rollout hands to pulumi.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ApplyError, automationApply, shellApply } from "../../lib/rollout/apply";

const STAND_IN = `#!/bin/sh
printf '%s|%s\\n' "$PWD" "$*" >> "$PULUMI_CALLS"
case "$1" in
  version) echo "v3.200.0" ;;
  stack)
    case "$2" in
      output) echo '{}' ;;
      history) echo '[]' ;;
    esac ;;
  up)
    echo "Updating (dev):"
    echo "    ~ aws:lb:Listener web-prod-listener update [diff: ~defaultActions]"
    if [ -n "$FAIL_UP" ]; then echo "error: update failed: ResourceInUse" >&2; exit 255; fi
    if [ -n "$CONFLICT_UP" ]; then echo "error: [409] Conflict: Another update is currently in progress." >&2; exit 255; fi
    if [ -n "$SLOW_UP" ]; then
      sleep 30 & pid=$!
      trap 'kill $pid; echo "SIGINT" >> "$PULUMI_CALLS"; echo "error: update canceled" >&2; exit 255' INT
      echo started > "$SLOW_UP"; wait
    fi
    echo "Resources: 1 updated" ;;
esac
`;

describe("rollout apply (lib/rollout/apply.ts)", function () {
    this.timeout(20000);
    let tmp: string;
    let savedPath: string | undefined;
    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-apply-"));
        fs.mkdirSync(path.join(tmp, "bin"));
        fs.mkdirSync(path.join(tmp, "project"));
        fs.writeFileSync(path.join(tmp, "bin", "pulumi"), STAND_IN, { mode: 0o755 });
        savedPath = process.env.PATH;
        // The Automation API finds `pulumi` on the process's own PATH (PulumiCommand.get).
        process.env.PATH = `${path.join(tmp, "bin")}${path.delimiter}${savedPath}`;
    });
    afterEach(() => {
        process.env.PATH = savedPath;
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const calls = () =>
        fs
            .readFileSync(path.join(tmp, "calls"), "utf8")
            .trim()
            .split("\n")
            .map((l) => l.split("|"));

    it("selects the stack in --dir and runs pulumi up --yes --skip-preview with its output streamed", async () => {
        const lines: string[] = [];
        const project = path.join(tmp, "project");
        const apply = automationApply({
            stack: "dev",
            dir: project,
            env: { ...process.env, PULUMI_CALLS: path.join(tmp, "calls") },
            out: (l) => lines.push(l),
        });
        await apply("canary 10");
        await apply("flip");
        await apply("finish");
        const real = fs.realpathSync(project);
        const made = calls().filter(([, args]) => args !== "version");
        assert.deepEqual(made, [
            [real, "stack select --stack dev --non-interactive"],
            [real, "up --yes --skip-preview --message switchyard rollout: canary 10 --exec-kind auto.local --stack dev --non-interactive"],
            [real, "stack output --json --stack dev --non-interactive"],
            [real, "stack output --json --show-secrets --stack dev --non-interactive"],
            [real, "stack history --json --show-secrets --page-size 1 --page 1 --stack dev --non-interactive"],
            // The stack is selected once per rollout, then each step is one up.
            [real, "up --yes --skip-preview --message switchyard rollout: flip --exec-kind auto.local --stack dev --non-interactive"],
            [real, "stack output --json --stack dev --non-interactive"],
            [real, "stack output --json --show-secrets --stack dev --non-interactive"],
            [real, "stack history --json --show-secrets --page-size 1 --page 1 --stack dev --non-interactive"],
            // finish refreshes: the state may hold an autoscaled colour's old count (desiredCount was ignored).
            [
                real,
                "up --yes --skip-preview --message switchyard rollout: finish --refresh --exec-kind auto.local --stack dev --non-interactive",
            ],
            [real, "stack output --json --stack dev --non-interactive"],
            [real, "stack output --json --show-secrets --stack dev --non-interactive"],
            [real, "stack history --json --show-secrets --page-size 1 --page 1 --stack dev --non-interactive"],
        ]);
        assert.deepEqual(lines.slice(0, 3), [
            "Updating (dev):",
            "    ~ aws:lb:Listener web-prod-listener update [diff: ~defaultActions]",
            "Resources: 1 updated",
        ]);
    });

    it("fails the step with the end of pulumi's stderr when up fails", async () => {
        const lines: string[] = [];
        const env = { ...process.env, PULUMI_CALLS: path.join(tmp, "calls"), FAIL_UP: "1" };
        const apply = automationApply({ stack: "prod", dir: path.join(tmp, "project"), env, out: (l) => lines.push(l) });
        await assert.rejects(apply("flip"), { message: "pulumi up --stack prod failed: error: update failed: ResourceInUse" });
        assert.ok(lines.includes("error: update failed: ResourceInUse"), lines.join("\n"));
    });

    it("an update refused by the backend (another update in progress) is an ApplyError of kind concurrent", async () => {
        // The Automation API turns "[409] Conflict: Another update is currently in progress." in pulumi's stderr
        // into ConcurrentUpdateError (node_modules/@pulumi/pulumi/automation/errors.js, createCommandError).
        const env = { ...process.env, PULUMI_CALLS: path.join(tmp, "calls"), CONFLICT_UP: "1" };
        const apply = automationApply({ stack: "prod", dir: path.join(tmp, "project"), env, out: () => undefined });
        await assert.rejects(apply("canary 50"), (e: unknown) => {
            assert.ok(e instanceof ApplyError);
            assert.equal(e.kind, "concurrent");
            assert.equal(
                e.message,
                "pulumi up --stack prod was refused: another update is in progress (error: [409] Conflict: Another update is currently in progress.)",
            );
            return true;
        });
    });

    it("stopping an apply sends pulumi SIGINT (it cancels its update) and fails the step as stopped", async () => {
        const started = path.join(tmp, "started");
        const env = { ...process.env, PULUMI_CALLS: path.join(tmp, "calls"), SLOW_UP: started };
        const apply = automationApply({ stack: "dev", dir: path.join(tmp, "project"), env, out: () => undefined });
        const stop = new AbortController();
        const applying = apply("flip", stop.signal);
        const deadline = Date.now() + 10000;
        while (!fs.existsSync(started) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        stop.abort();
        await assert.rejects(applying, (e: unknown) => {
            assert.ok(e instanceof ApplyError);
            assert.equal(e.kind, "stopped");
            assert.equal(e.message, "pulumi up --stack dev was stopped (SIGINT): error: update canceled");
            return true;
        });
        assert.deepEqual(calls().at(-1), ["SIGINT"]);
    });

    it("--apply runs a shell command in --dir with SWITCHYARD_STACK and SWITCHYARD_STEP; non-zero fails the step", async () => {
        const lines: string[] = [];
        const project = path.join(tmp, "project");
        const apply = shellApply('echo "$SWITCHYARD_STACK/$SWITCHYARD_STEP in $(basename "$PWD")"; [ "$SWITCHYARD_STEP" != flip ]', {
            stack: "dev",
            dir: project,
            env: process.env,
            out: (l) => lines.push(l),
        });
        await apply("canary 10");
        await assert.rejects(apply("flip"), {
            message: `--apply "echo "$SWITCHYARD_STACK/$SWITCHYARD_STEP in $(basename "$PWD")"; [ "$SWITCHYARD_STEP" != flip ]" exited with code 1`,
        });
        assert.deepEqual(lines, ["dev/canary 10 in project", "dev/flip in project"]);
    });
});
