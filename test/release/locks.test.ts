/**
 * Debris of a killed edit (cli/stackLock.ts, cli/transaction.ts): a lock left by `kill -9` is
 * taken over at once, a lock of a live process is named in the refusal, and temporary files of
 * dead processes are removed by the next edit. Real processes: a child that takes the lock through
 * editStackFile and stops inside it, then is killed with SIGKILL.
 *
 * Whether a process exists: `process.kill(pid, 0)` ("a signal of 0 can be used to test for the
 * existence of a process", https://nodejs.org/api/process.html#processkillpid-signal).
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, TWO_IMAGES as DEV, read, run, stackDir } from "./fixtures";

const CANARY = ["canary", "--stack", "dev", "--percent", "10"];
const AFTER = DEV.replace("live: blue\n", "live: blue\n    canary:\n      percent: 10\n");

/**
 * A process that takes the lock of `dir`'s dev stack file through editStackFile, writes a
 * temporary file as a write in progress would, says so (the `ready` file), and then waits forever
 * inside the edit.
 */
async function holder(dir: string): Promise<ChildProcess> {
    const ready = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-lock-")), "ready");
    const script = `
        const fs = require("node:fs");
        const { editStackFile } = require(${JSON.stringify(path.join(ROOT, "cli", "transaction.ts"))});
        editStackFile(${JSON.stringify(dir)}, "dev", () => {
            fs.writeFileSync(${JSON.stringify(path.join(dir, ".Pulumi.dev.yaml."))} + process.pid + ".switchyard-tmp", "half a file");
            fs.writeFileSync(${JSON.stringify(ready)}, "");
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        });`;
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, stdio: "ignore" });
    const deadline = Date.now() + 20_000;
    while (!fs.existsSync(ready)) {
        assert.ok(Date.now() < deadline && child.exitCode === null, "the lock holder did not start");
        await new Promise((r) => setTimeout(r, 50));
    }
    return child;
}

async function killed(child: ChildProcess): Promise<void> {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
}

/** The id of a process that has ended. */
function deadPid(): number {
    return spawnSync(process.execPath, ["-e", ""]).pid!;
}

describe("debris of a killed edit (cli/stackLock.ts)", function () {
    this.timeout(60_000);

    it("a lock and temporary file left by a run killed with SIGKILL: taken over at once, and removed", async () => {
        const dir = stackDir({ dev: DEV });
        const child = await holder(dir);
        assert.deepEqual(fs.readdirSync(dir).sort(), [
            `.Pulumi.dev.yaml.${child.pid}.switchyard-tmp`,
            "Pulumi.dev.yaml",
            "Pulumi.dev.yaml.lock",
        ]);
        await killed(child);
        const started = Date.now();
        const r = await run([...CANARY, "--dir", dir]);
        const took = Date.now() - started;
        assert.equal(r.code, 0, r.err);
        // Before, a killed run's lock was taken over only once it was 10 s old (proper-lockfile's `stale`).
        assert.ok(took < 3000, `took ${took} ms`);
        assert.equal(read(dir, "dev"), AFTER);
        assert.deepEqual(fs.readdirSync(dir), ["Pulumi.dev.yaml"]);
    });

    it("a lock of a live process is not taken over: the refusal names the owner and since when; nothing is written", async () => {
        const dir = stackDir({ dev: DEV });
        const file = path.join(dir, "Pulumi.dev.yaml");
        const child = await holder(dir);
        try {
            const owner = JSON.parse(fs.readFileSync(`${file}.lock`, "utf8"));
            assert.deepEqual(Object.keys(owner), ["pid", "host", "since"]);
            assert.deepEqual([owner.pid, owner.host], [child.pid, os.hostname()]);
            const r = await run([...CANARY, "--dir", dir]);
            assert.equal(r.code, 1);
            const age = /\((\d+) s ago\)/.exec(r.err)?.[1];
            assert.ok(age === "5" || age === "6", r.err);
            assert.equal(
                r.err,
                `switchyard: another switchyard command holds the lock on ${file} (process ${child.pid} on this host, since ${owner.since} ` +
                    `(${age} s ago); lock ${file}.lock) for over 5 s; nothing was written. Run this command again when it has finished; ` +
                    `if process ${child.pid} is not a switchyard command (a stopped one: fg or kill it), remove ${file}.lock`,
            );
            assert.equal(read(dir, "dev"), DEV);
        } finally {
            await killed(child);
        }
    });

    it("temporary files: a dead process's is removed by the next edit, a running process's is left to it", async () => {
        const dir = stackDir({ dev: DEV });
        const dead = `.Pulumi.dev.yaml.${deadPid()}.switchyard-tmp`;
        const running = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
        const live = `.Pulumi.dev.yaml.${running.pid}.switchyard-tmp`;
        try {
            fs.writeFileSync(path.join(dir, dead), "half a file");
            fs.writeFileSync(path.join(dir, live), "being written");
            const r = await run([...CANARY, "--dir", dir]);
            assert.equal(r.code, 0, r.err);
            assert.deepEqual(fs.readdirSync(dir).sort(), [live, "Pulumi.dev.yaml"]);
        } finally {
            await killed(running);
        }
    });

    it("signals after an edit: a command's own once-handler still gets the first SIGINT; the second ends the process", async () => {
        const dir = stackDir({ dev: DEV });
        // As rollout does: its handler first, then edits (which install the lock's deferral).
        const script = `
            process.once("SIGINT", () => console.log("handled"));
            require(${JSON.stringify(path.join(ROOT, "cli", "transaction.ts"))}).editStackFile(${JSON.stringify(dir)}, "dev", () => ({ edits: [], summary: "" }));
            process.kill(process.pid, "SIGINT");
            setTimeout(() => { console.log("alive"); process.kill(process.pid, "SIGINT"); setTimeout(() => console.log("not ended"), 500); }, 200);`;
        const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, encoding: "utf8" });
        assert.deepEqual([r.stdout, r.signal], ["handled\nalive\n", "SIGINT"]);
    });

    it("a lock of another host (unverifiable) is taken over once 10 s old", async () => {
        const dir = stackDir({ dev: DEV });
        const lock = path.join(dir, "Pulumi.dev.yaml.lock");
        fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: "elsewhere.example", since: "2026-01-01T00:00:00.000Z" }));
        const old = new Date(Date.now() - 11_000);
        fs.utimesSync(lock, old, old);
        const r = await run([...CANARY, "--dir", dir]);
        assert.equal(r.code, 0, r.err);
        assert.equal(read(dir, "dev"), AFTER);
        assert.deepEqual(fs.readdirSync(dir), ["Pulumi.dev.yaml"]);
    });
});
