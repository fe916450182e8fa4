import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { A, ALIGNED, B, C, COMMENTED, REPO, read, run, stackDir } from "./fixtures";

const DEV = `config:
  switchyard:service:
    name: web
  switchyard:slots:
    blue:
      image: ${A}
      schema: [3, 4]
  switchyard:traffic:
    live: blue
  switchyard:database:
    schema: 3
`;

const PROD = `config:
  switchyard:environment: production
  switchyard:service:
    name: web
    desiredCount: 4
  switchyard:slots:
    blue:
      image: ${C}
      schema: [3]
  switchyard:traffic:
    live: blue
  switchyard:testAccess:
    cidrs: [10.0.0.0/8]
  switchyard:database:
    schema: 3
`;

const ROLLING = `config:
  switchyard:strategy: rolling
  switchyard:service:
    name: web
  switchyard:slots:
    blue:
      image: ${A} # first build
  switchyard:traffic:
    live: blue
`;

/** Runs a command that must be refused and checks every stack file is byte-for-byte unchanged. */
async function refused(dir: string, argv: string[], message: RegExp, code = 1): Promise<void> {
    const before = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]);
    const r = await run([argv[0], "--dir", dir, ...argv.slice(1)]);
    assert.equal(r.code, code, `exit code of ${argv.join(" ")}: ${r.err}`);
    assert.equal(r.out, "");
    assert.match(r.err, message);
    const now = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]);
    assert.deepEqual(now, before, "a refusal must leave every file byte-for-byte unchanged");
}

async function ok(dir: string, argv: string[], summary: RegExp): Promise<string> {
    const r = await run([...argv, "--dir", dir]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.match(r.out, summary);
    return r.out;
}

describe("release tool (cli/main.ts, in-process)", () => {
    it("runs a full release: start, canary, flip, finish", async () => {
        const dir = stackDir({ dev: DEV });
        await ok(
            dir,
            ["start", "--stack", "dev", "--image", B, "--schema", "3..4"],
            /^green \(candidate\) now holds web@sha256:bbbbbbbbbbbb, schema 3\.\.4 \(was empty\)/,
        );
        await ok(
            dir,
            ["canary", "--stack", "dev", "--percent", "10"],
            /^green now gets 10% of production traffic \(was 0%\), blue 90%\. Next: pulumi up --stack dev/,
        );
        await ok(
            dir,
            ["flip", "--stack", "dev"],
            /^green is now live \(was blue\); blue stays warm for rollback\. Next: pulumi up --stack dev, then verify; later finish$/,
        );
        await ok(
            dir,
            ["finish", "--stack", "dev"],
            /^blue \(web@sha256:aaaaaaaaaaaa, kept warm since the flip\) is scaled down to 0 tasks \(idle\)/,
        );
        assert.equal(
            read(dir, "dev"),
            `config:
  switchyard:service:
    name: web
  switchyard:slots:
    blue:
      image: ${A}
      schema: [3, 4]
      idle: true
    green:
      image: ${B}
      schema: {min: 3, max: 4}
  switchyard:traffic:
    live: green
  switchyard:database:
    schema: 3
`,
        );
    });

    it("status prints both colours as a table, and as JSON with --json", async () => {
        const dir = stackDir({ dev: COMMENTED });
        const text = await ok(dir, ["status", "--stack", "dev"], /^stack dev \(development, blue-green\)/);
        const lines = text.split("\n");
        assert.match(lines[1], /^colour\s+role\s+slot\s+schema\s+tasks\s+traffic\s+routes\s+test listener$/);
        assert.match(lines[2], /^blue\s+live\s+web@sha256:aaaaaaaaaaaa\s+\[3, 4\]\s+2\s+100%\s+-\s+-$/);
        assert.match(
            lines[3],
            /^green\s+candidate\s+web@sha256:bbbbbbbbbbbb\s+\[3, 4\]\s+2\s+0%\s+routes\[0\] priority 1: header x-beta-user=alice\|bob\s+yes$/,
        );
        assert.equal(lines[4], "live: blue   candidate: green   canary: none   previous: none   database schema: 3");
        const json = JSON.parse((await run(["status", "--stack", "dev", "--dir", dir, "--json"])).out);
        assert.equal(json.live, "blue");
        assert.equal(json.candidate, "green");
        assert.deepEqual(json.colors[1], {
            color: "green",
            role: "candidate",
            slot: { kind: "image", image: B },
            slotSummary: "web@sha256:bbbbbbbbbbbb",
            schema: "[3, 4]",
            idle: false,
            tasks: 2,
            share: 0,
            routes: ["routes[0] priority 1: header x-beta-user=alice|bob"],
            testListener: true,
        });
    });

    it("status shows idle tasks, the canary and previous", async () => {
        const dir = stackDir({ dev: ALIGNED });
        const out = await ok(dir, ["status", "--stack", "dev"], /canary: 10% \(sticky 3600s\)/);
        assert.match(out, /green\s+candidate\s+build \.\/app\s+-\s+2\s+10%/);
    });

    it("rolling mode: start replaces the single slot and records the previous digest; rollback prints it", async () => {
        const dir = stackDir({ dev: ROLLING });
        await ok(dir, ["start", "--stack", "dev", "--image", B], /blue \(the only fleet, rolling\) now runs web@sha256:bbbbbbbbbbbb/);
        assert.match(
            read(dir, "dev"),
            new RegExp(`image: ${B.replace(/\./g, "\\.")} # first build; previous: ${A.replace(/\./g, "\\.")}\n`),
        );
        await refused(
            dir,
            ["rollback", "--stack", "dev"],
            new RegExp(`strategy is rolling.*start --stack dev --image ${A.replace(/\./g, "\\.")}$`),
        );
        await ok(dir, ["start", "--stack", "dev", "--image", C], /now runs web@sha256:cccccccccccc/);
        assert.match(read(dir, "dev"), new RegExp(`# first build; previous: ${B.replace(/\./g, "\\.")}\n`));
        for (const cmd of [["canary", "--percent", "5"], ["flip"], ["finish"]]) {
            await refused(
                dir,
                [cmd[0], "--stack", "dev", ...cmd.slice(1)],
                new RegExp(`${cmd[0]} does not apply to stack dev: switchyard:strategy is rolling`),
            );
        }
    });

    it("promote copies dev's live digest and schema into prod's candidate slot", async () => {
        const dir = stackDir({ dev: DEV, prod: PROD });
        await ok(
            dir,
            ["promote", "--from", "dev", "--to", "prod"],
            /^from dev \(live blue\): green \(candidate\) now holds web@sha256:aaaaaaaaaaaa, schema \[3, 4\].*pulumi up --stack prod/,
        );
        assert.equal(read(dir, "dev"), DEV);
        const prod = parseDocument(read(dir, "prod")).toJS();
        assert.deepEqual(prod.config["switchyard:slots"].green, { image: A, schema: [3, 4] });
        assert.equal(prod.config["switchyard:traffic"].live, "blue");
    });

    it("promote refuses a build that is live in the source, leaving both files unchanged", async () => {
        const dir = stackDir({ dev: DEV.replace(`image: ${A}`, "build: ./app"), prod: PROD });
        await refused(dir, ["promote", "--from", "dev", "--to", "prod"], /dev's live slot blue is a build \(\.\/app\), not pinned/);
        const dir2 = stackDir({ dev: DEV.replace("schema: [3, 4]", "schema: [4]").replace("schema: 3", "schema: 4"), prod: PROD });
        await refused(dir2, ["promote", "--from", "dev", "--to", "prod"], /does not include switchyard:database.schema 3/);
    });

    it("promote names the flag of a stack file that is not there (--from or --to, not --stack): a usage error", async () => {
        const dir = stackDir({ dev: DEV, prod: PROD });
        await refused(
            dir,
            ["promote", "--from", "dev", "--to", "prd"],
            /^switchyard: no stack file .*Pulumi\.prd\.yaml; check --to and --dir /,
            2,
        );
        await refused(
            dir,
            ["promote", "--from", "dve", "--to", "prod"],
            /^switchyard: no stack file .*Pulumi\.dve\.yaml; check --from and --dir /,
            2,
        );
    });

    describe("refusals leave every file byte-for-byte unchanged", () => {
        // [name, file, argv, message, exit code: 1 refused by the release's checks, 2 bad input (cli/exitCodes.ts)]
        const cases: [string, string, string[], RegExp, number?][] = [
            ["start with a tag", DEV, ["start", "--stack", "dev", "--image", `${REPO}:latest`], /is a mutable tag/, 2],
            [
                "start with an incompatible schema",
                DEV,
                ["start", "--stack", "dev", "--image", B, "--schema", "4,5"],
                /\[4, 5\], which does not include/,
            ],
            [
                "start while the candidate has a canary",
                ALIGNED,
                ["start", "--stack", "dev", "--image", B],
                /either undo it with npm run switchyard -- rollback --stack dev/,
            ],
            ["canary on an empty candidate", DEV, ["canary", "--stack", "dev", "--percent", "10"], /green \(the candidate\) is empty/],
            ["flip on an empty candidate", DEV, ["flip", "--stack", "dev"], /green \(the candidate\) is empty/],
            ["flip of a build without a digest and no pulumi", ALIGNED, ["flip", "--stack", "dev"], /pass --digest/],
            [
                "flip with a route to the old colour",
                COMMENTED.replace("- color: green", "- color: blue"),
                ["flip", "--stack", "dev"],
                /traffic\.routes\[0\] \(priority 1\) sends requests to blue.*route remove --stack dev --priority 1$/,
            ],
            ["finish during a canary", ALIGNED, ["finish", "--stack", "dev"], /green still receives production traffic \(canary 10%\)/],
            [
                "an invalid stack file",
                DEV.replace("live: blue", "live: purple"),
                ["flip", "--stack", "dev"],
                /not valid as it stands[\s\S]*traffic.live must be one of blue, green \(got 'purple'\)/,
                2,
            ],
        ];
        for (const [name, text, argv, message, code] of cases) {
            it(name, async () => refused(stackDir({ dev: text }), argv, message, code));
        }
        // Issue 15 item 10: a wrong --stack or --dir is a usage error (exit 2), in reading and editing commands alike.
        it("a missing stack file: usage error", async () => {
            const dir = stackDir({});
            for (const cmd of ["status", "flip", "rollback", "start --image " + B, "start --build ./app"]) {
                const [name, ...rest] = cmd.split(" ");
                await refused(
                    dir,
                    [name, "--stack", "nope", ...rest],
                    /^switchyard: no stack file .*Pulumi\.nope\.yaml; check --stack and --dir/,
                    2,
                );
            }
        });
    });

    describe("usage errors exit 2 with one message naming the flag or command", () => {
        const cases: [string[], RegExp][] = [
            [["bogus"], /error: unknown command 'bogus'/],
            [["flip", "--stack", "dev", "--force"], /error: unknown option '--force'/],
            [["canary", "--stack", "dev", "--percent"], /error: option '--percent <n>' argument missing/],
            [["canary", "--stack", "dev", "--percent", "100"], /error: option '--percent <n>' argument '100' is invalid/],
            [["canary", "--percent", "10"], /error: required option '--stack <name>' not specified/],
            [
                ["start", "--stack", "dev", "--image", B, "--build", "./app"],
                /error: option '--image <ref>' cannot be used with option '--build <context>'/,
            ],
            [["start", "--stack", "dev"], /error: start needs --image <ref> or --build <context>/],
            [["start", "--stack", "dev", "--image", B, "--schema", "x"], /error: option '--schema <versions>' argument 'x' is invalid/],
            [["promote", "--from", "dev"], /error: required option '--to <stack>' not specified/],
        ];
        for (const [argv, message] of cases) {
            it(argv.join(" "), async () => {
                const dir = stackDir({ dev: DEV });
                await refused(dir, [...argv], message, 2);
            });
        }
    });

    it("flip reads a build slot's digest from `pulumi stack output images` when pulumi is on PATH", async function () {
        if (process.platform === "win32") this.skip();
        const dir = stackDir({ dev: ALIGNED });
        const bin = fs.mkdtempSync(path.join(dir, "bin-"));
        const fake = path.join(bin, "pulumi");
        fs.writeFileSync(fake, `#!/bin/sh\necho "$@" > "${bin}/args"\necho '{"blue": "${A}", "green": "${B}"}'\n`, { mode: 0o755 });
        const r = await run(["flip", "--stack", "dev", "--dir", dir], { PATH: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin` });
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /green is now live \(was blue\), pinned to web@sha256:bbbbbbbbbbbb/);
        assert.equal(fs.readFileSync(path.join(bin, "args"), "utf8").trim(), "stack output images --json --stack dev");
        assert.match(read(dir, "dev"), new RegExp(`\n      image: ${B.replace(/\./g, "\\.")}\n`));
    });

    it("flip reports a failing pulumi and leaves the file unchanged", async function () {
        if (process.platform === "win32") this.skip();
        const dir = stackDir({ dev: ALIGNED });
        const bin = fs.mkdtempSync(path.join(dir, "bin-"));
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho 'error: no stack named dev' >&2\nexit 255\n`, { mode: 0o755 });
        const before = read(dir, "dev");
        const r = await run(["flip", "--stack", "dev", "--dir", dir], { PATH: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin` });
        assert.equal(r.code, 1);
        assert.match(
            r.err,
            /pulumi stack output images --json --stack dev failed: error: no stack named dev; pass the digest with --digest/,
        );
        assert.equal(read(dir, "dev"), before);
    });

    it("a change that is already there does not rewrite the file, and says so", async () => {
        const dir = stackDir({ dev: ALIGNED.replace("live: blue   ", "live: blue") });
        const before = read(dir, "dev");
        await ok(
            dir,
            ["canary", "--stack", "dev", "--percent", "10"],
            /^already so: green already gets 10% of production traffic, blue 90%; a client stays on its colour for 3600 s; .*Pulumi\.dev\.yaml unchanged$/,
        );
        assert.equal(read(dir, "dev"), before);
    });

    it("lists every command in --help", async () => {
        const r = await run(["--help"]);
        assert.equal(r.code, 0);
        for (const cmd of ["status", "start", "canary", "flip", "rollback", "finish", "pin", "promote", "verify"])
            assert.match(r.out, new RegExp(`\\n  ${cmd}\\b`));
    });

    it("smoke: npm run switchyard -- status works as a real process", function () {
        this.timeout(120_000);
        const dir = stackDir({ dev: DEV });
        const root = path.resolve(__dirname, "../..");
        const r = spawnSync("npm", ["run", "--silent", "switchyard", "--", "status", "--stack", "dev", "--dir", dir], {
            cwd: root,
            encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^stack dev \(development, blue-green\)\n/);
        assert.match(r.stdout, /blue\s+live\s+web@sha256:aaaaaaaaaaaa/);
        const bad = spawnSync("npm", ["run", "--silent", "switchyard", "--", "flip", "--stack", "dev", "--dir", dir, "--nope"], {
            cwd: root,
            encoding: "utf8",
        });
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /unknown option '--nope'/);
    });
});
