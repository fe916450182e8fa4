/**
 * How the release tool treats the stack file itself (docs/release-tool.md, invariant 10 in the
 * README): symbolic links, read-only files and folders, CRLF, byte-order marks, modes,
 * directories, unreadable files, leftovers of interrupted runs.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { TWO_IMAGES as DEV, UNPRIVILEGED, run, spawnCli, stackDir, startCli } from "./fixtures";

const CANARY = ["canary", "--stack", "dev", "--percent", "10"];
const SUMMARY = "green now gets 10% of production traffic (was 0%), blue 90%.";

/** Every entry of a folder with its bytes (or "dir"), to compare before and after a refusal. */
function snapshot(dir: string): [string, string][] {
    return fs
        .readdirSync(dir)
        .sort()
        .map((name) => {
            const p = path.join(dir, name);
            const st = fs.lstatSync(p);
            const what = st.isSymbolicLink() ? `link ${fs.readlinkSync(p)}` : st.isDirectory() ? "dir" : fs.readFileSync(p, "base64");
            return [name, `${what} ${(st.mode & 0o7777).toString(8)}`];
        });
}

async function refusedInProcess(dir: string, argv: string[], message: string): Promise<void> {
    const before = snapshot(dir);
    const r = await run([...argv, "--dir", dir]);
    assert.equal(r.err, message);
    assert.equal(r.out, "");
    assert.equal(r.code, 1);
    assert.deepEqual(snapshot(dir), before, "a refusal leaves every file byte-for-byte unchanged");
}

describe("stack file handling (cli/transaction.ts)", () => {
    it("edits a symbolic link's target and keeps the link", async () => {
        const dir = stackDir({});
        const real = path.join(dir, "stacks");
        fs.mkdirSync(real);
        fs.writeFileSync(path.join(real, "dev.yaml"), DEV);
        fs.symlinkSync(path.join("stacks", "dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
        const r = await run([...CANARY, "--dir", dir]);
        assert.equal(r.code, 0, r.err);
        assert.equal(fs.readlinkSync(path.join(dir, "Pulumi.dev.yaml")), path.join("stacks", "dev.yaml"));
        assert.equal(
            fs.readFileSync(path.join(real, "dev.yaml"), "utf8"),
            DEV.replace("live: blue\n", "live: blue\n    canary:\n      percent: 10\n"),
        );
        assert.deepEqual(fs.readdirSync(real), ["dev.yaml"]);
    });

    it("refuses a read-only file, naming its mode", async () => {
        const dir = stackDir({ dev: DEV });
        const file = path.join(dir, "Pulumi.dev.yaml");
        fs.chmodSync(file, 0o444);
        await refusedInProcess(
            dir,
            CANARY,
            `switchyard: ${file} is read-only (mode 444), so it was not changed; if it should change, make it writable (chmod u+w ${file}) and run the command again`,
        );
    });

    it("keeps CRLF line ends, a byte-order mark and the mode", async () => {
        const dir = stackDir({});
        const file = path.join(dir, "Pulumi.dev.yaml");
        fs.writeFileSync(file, "\uFEFF" + DEV.replace(/\n/g, "\r\n"));
        fs.chmodSync(file, 0o640);
        const r = await run([...CANARY, "--dir", dir]);
        assert.equal(r.code, 0, r.err);
        const expected = "\uFEFF" + DEV.replace("live: blue\n", "live: blue\n    canary:\n      percent: 10\n").replace(/\n/g, "\r\n");
        assert.equal(fs.readFileSync(file, "utf8"), expected);
        assert.equal(fs.statSync(file).mode & 0o7777, 0o640);
    });

    it("says a directory is a directory", async () => {
        const dir = stackDir({});
        const file = path.join(dir, "Pulumi.dev.yaml");
        fs.mkdirSync(file);
        await refusedInProcess(
            dir,
            CANARY,
            `switchyard: ${file} is a directory, not a stack file; check --stack and --dir (the directory holding Pulumi.<stack>.yaml)`,
        );
    });

    it("says a symbolic link points nowhere", async () => {
        const dir = stackDir({});
        fs.symlinkSync("gone.yaml", path.join(dir, "Pulumi.dev.yaml"));
        await refusedInProcess(
            dir,
            CANARY,
            `switchyard: ${path.join(dir, "Pulumi.dev.yaml")} is a symbolic link to gone.yaml, which does not exist; ` +
                `check --stack and --dir (the directory holding Pulumi.<stack>.yaml)`,
        );
    });

    it("removes a temporary file an interrupted (killed) run left", async () => {
        const dir = stackDir({ dev: DEV });
        fs.writeFileSync(path.join(dir, ".Pulumi.dev.yaml.999999.switchyard-tmp"), "half a file");
        const r = await run([...CANARY, "--dir", dir]);
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(fs.readdirSync(dir), ["Pulumi.dev.yaml"]);
    });

    describe("as a separate process", function () {
        this.timeout(30_000);
        const as = UNPRIVILEGED;
        // Compiles the tool (as the owner of the checkout) if the sources changed; the runs below may be another user.
        before(async () => assert.equal((await spawnCli(["--version"])).out, "0.1.0"));

        async function refusedAs(dir: string, message: string): Promise<void> {
            const before = snapshot(dir);
            const r = await spawnCli([...CANARY, "--dir", dir], { as });
            assert.equal(r.err, message);
            assert.equal(r.out, "");
            assert.equal(r.code, 1);
            assert.deepEqual(snapshot(dir), before);
        }

        it("reports an unreadable file as unreadable", async () => {
            const dir = stackDir({ dev: DEV });
            fs.chmodSync(dir, 0o755);
            const file = path.join(dir, "Pulumi.dev.yaml");
            fs.chmodSync(file, 0o200);
            const owner = fs.statSync(file).uid;
            await refusedAs(
                dir,
                `switchyard: cannot read ${file}: permission denied (mode 200, owner uid ${owner}); run as a user who may read it, or make it readable (chmod u+r ${file})`,
            );
        });

        it("a read-only folder is one clear message, no stack trace", async () => {
            const dir = stackDir({ dev: DEV });
            fs.chmodSync(path.join(dir, "Pulumi.dev.yaml"), 0o666);
            fs.chmodSync(dir, 0o555);
            try {
                await refusedAs(
                    dir,
                    `switchyard: the folder ${dir} is not writable, so Pulumi.dev.yaml cannot be edited: the release tool writes the new ` +
                        `file next to it and renames it into place; make the folder writable (chmod u+w ${dir}) and run the command again`,
                );
            } finally {
                fs.chmodSync(dir, 0o755);
            }
        });

        it("an interrupted run (SIGTERM, SIGINT) leaves the old file or the new one, and no temporary file", async () => {
            const after = DEV.replace("live: blue\n", "live: blue\n    canary:\n      percent: 10\n");
            const outcomes = new Set<string>();
            // Delays spread over the run's life (start-up ~0.1-0.3 s here): before, during and after the write.
            for (const [i, delay] of [0, 60, 120, 180, 240, 400].entries()) {
                const dir = stackDir({ dev: DEV });
                const { child, result } = startCli([...CANARY, "--dir", dir]);
                setTimeout(() => child.kill(i % 2 ? "SIGINT" : "SIGTERM"), delay);
                const r = await result;
                const text = fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8");
                assert.ok(text === DEV || text === after, `a whole file, old or new:\n${text}`);
                assert.deepEqual(fs.readdirSync(dir), ["Pulumi.dev.yaml"], "no temporary file or lock left");
                // Exit 0 only with the change in the file.
                if (r.code === 0) assert.equal(text, after);
                outcomes.add(text === DEV ? "old" : "new");
            }
            assert.ok(outcomes.has("old"), "at least one run was interrupted before it wrote");
        });
    });

    it("the summary of a successful edit is printed once", async () => {
        const dir = stackDir({ dev: DEV });
        const r = await run([...CANARY, "--dir", dir]);
        assert.equal(r.code, 0, r.err);
        assert.ok(r.out.startsWith(SUMMARY), r.out);
    });
});
