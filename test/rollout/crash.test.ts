/**
 * Issue 14 item 9 (the tool's half): a crash of the tool exits EXIT.crashed (4), never 1, which
 * the pipeline's net reads as "refused or rolled back cleanly". Node's own exit code for an
 * uncaught exception is 1 (https://nodejs.org/api/process.html#exit-codes: "1 Uncaught Fatal
 * Exception"), so both the tool's catch-all (cli/main.ts runProcess) and the last resort in
 * cli/launch.js must say 4. The crashes are injected with `node --require` preloads into the
 * real launcher.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EXIT } from "../../cli/exitCodes";

const root = path.resolve(__dirname, "..", "..");

describe("a crash of the tool exits EXIT.crashed (cli/main.ts, cli/launch.js)", function () {
    this.timeout(60000);
    let dir: string;
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-crash-"));
        // Compiles the tool's tree once, so the runs below only load it.
        spawnSync(process.execPath, [path.join(root, "cli", "launch.js"), "--version"]);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function crash(preload: string): { status: number | null; stderr: string } {
        const file = path.join(dir, `preload-${Math.random().toString(36).slice(2)}.js`);
        fs.writeFileSync(file, preload);
        const r = spawnSync(
            process.execPath,
            ["--require", file, path.join(root, "cli", "launch.js"), "status", "--stack", "dev", "--dir", root],
            {
                encoding: "utf8",
            },
        );
        return { status: r.status, stderr: r.stderr };
    }

    it("an error that escapes a command (main's catch-all) exits 4 with the error", () => {
        // process.cwd() is called while main() registers the commands (the --dir default): main rejects.
        const r = crash(`process.cwd = () => { throw new Error("boom in main"); };`);
        assert.equal(r.status, EXIT.crashed);
        assert.equal(r.status, 4);
        assert.match(r.stderr, /^switchyard: unexpected error: Error: boom in main\n/);
    });

    it("an exception nothing catches (a timer, a callback) exits 4 through launch.js's last resort", () => {
        const r = crash(`setImmediate(() => { throw new Error("boom in a callback"); });`);
        assert.equal(r.status, 4);
        assert.match(r.stderr, /switchyard: unexpected error: Error: boom in a callback\n/);
    });
});
