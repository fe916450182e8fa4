/**
 * Interrupts with real processes: the tool is started as a user starts it (node cli/launch.js),
 * against moto's server, with a slow `--apply` command that starts a child of its own. A first
 * SIGINT lets the apply run on; a second stops the apply's whole process group, and the tool
 * says where the release is (exit 3: AWS may be partway through that apply).
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { DIGEST, seedStack } from "../aws/seed";
import { useMoto } from "../helpers/moto";

const root = path.resolve(__dirname, "..", "..");
const NEW = DIGEST.replace(/a{64}$/, "b".repeat(64));

/** Records its own pid and its child's, then waits on the child (a long apply). */
const SLOW_APPLY = `#!/bin/sh
sleep 60 &
echo "$$ $!" > pids
wait
`;

/** Running: signalable and not a zombie (an orphan's exit is reaped by PID 1, which in a container may never do it). */
function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch {
        return false;
    }
    const stat = `/proc/${pid}/stat`;
    // Field 3 of /proc/<pid>/stat is the state; Z is a zombie (proc(5)).
    return !fs.existsSync(stat) || fs.readFileSync(stat, "utf8").split(") ")[1]?.[0] !== "Z";
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

describe("rollout interrupted twice during an apply (real processes)", function () {
    this.timeout(60000);
    const moto = useMoto();
    let dir: string;
    let tool: ChildProcess | undefined;
    afterEach(() => {
        if (tool && tool.exitCode === null && tool.signalCode === null) tool.kill("SIGKILL");
        const pids = path.join(dir, "pids");
        if (fs.existsSync(pids))
            for (const pid of fs.readFileSync(pids, "utf8").trim().split(" ").map(Number)) if (alive(pid)) process.kill(pid, "SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("the second SIGINT stops the --apply command and its children, and says where the release is (exit 3)", async () => {
        await seedStack(moto.endpoint, { stack: "dev", weights: { blue: 100, green: 0 }, testTo: "green" });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-interrupt-"));
        fs.writeFileSync(
            path.join(dir, "Pulumi.dev.yaml"),
            stringify({
                config: {
                    "aws:region": "eu-west-1",
                    "switchyard:service": { name: "web" },
                    "switchyard:slots": { blue: { image: DIGEST }, green: { image: NEW } },
                    "switchyard:traffic": { live: "blue" },
                    "switchyard:rollout": { steps: [{ canary: 10, bakeSeconds: 60 }, { flip: true }] },
                },
            }),
        );
        fs.writeFileSync(path.join(dir, "slow.sh"), SLOW_APPLY, { mode: 0o755 });
        let stdout = "";
        let stderr = "";
        tool = spawn(
            process.execPath,
            [path.join(root, "cli", "launch.js"), "rollout", "--stack", "dev", "--dir", dir, "--apply", "./slow.sh"],
            {
                env: { ...process.env },
                stdio: ["ignore", "pipe", "pipe"],
            },
        );
        tool.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
        tool.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => tool!.once("exit", (code) => resolve(code)));
        const pidsFile = path.join(dir, "pids");
        await waitFor(() => fs.existsSync(pidsFile) && fs.readFileSync(pidsFile, "utf8").includes(" "), 40000, "the apply to start");
        const [shell, child] = fs.readFileSync(pidsFile, "utf8").trim().split(" ").map(Number);

        tool.kill("SIGINT");
        await waitFor(() => stdout.includes("SIGINT: stopping after the current apply or poll"), 5000, "the first SIGINT to be seen");
        assert.ok(alive(shell) && alive(child), "the first SIGINT lets the apply run on");
        tool.kill("SIGINT");
        const code = await exited;

        assert.equal(code, 3, `${stdout}\n${stderr}`);
        assert.ok(stdout.includes("SIGINT again: stopping the apply under way"), stdout);
        assert.ok(!alive(shell) && !alive(child), "the apply's shell and its child are stopped");
        assert.deepEqual(stderr.trim().split("\n"), [
            `switchyard: rollout: a person must act: the apply of canary 10 did not complete: --apply "./slow.sh" was stopped (SIGTERM to its process group) (interrupted)`,
            "  Pulumi.dev.yaml says: live blue, canary 10% to green",
            "  AWS was last told: nothing by this run (AWS is as the last apply before it left it)",
            `  The file and AWS may differ. To apply what the file says: npm run switchyard -- sync --stack dev --dir ${dir} --apply "./slow.sh" ` +
                `(to go back to the last safe routing first: npm run switchyard -- rollback --stack dev --dir ${dir}, then the same sync)`,
        ]);
    });
});
