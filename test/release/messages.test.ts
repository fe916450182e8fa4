/**
 * Typos that must not pass silently, advice that must work as printed, and the smaller
 * behaviours of the tool's surface (help, version, stderr, stickiness).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { RunError } from "@pulumi/pulumi/errors";
import { parseConfig, rawFromPulumiConfig } from "../../lib/config";
import { ConfigError } from "../../lib/problems";
import { A, C, TWO_IMAGES, appContext, read, run, stackDir } from "./fixtures";

/** Both colours hold an image; `percent:` is followed by `percent` (e.g. " 10", " ~" or nothing). */
const CANARY_DEV = (percent: string) => `${TWO_IMAGES}    canary:\n      percent:${percent}\n`;

/** Runs a command that must be refused with exactly `message`, leaving the file as it was. */
async function refused(dir: string, argv: string[], message: string, code = 1): Promise<void> {
    const before = read(dir, "dev");
    const r = await run([...argv, "--dir", dir]);
    assert.equal(r.err, message);
    assert.equal(r.out, "");
    assert.equal(r.code, code);
    assert.equal(read(dir, "dev"), before);
}

/** The `npm run switchyard -- …` command a message suggests, as arguments. */
function suggested(message: string): string[] {
    const m = /npm run switchyard -- ([^()]+?)(?: \(|$)/.exec(message);
    assert.ok(m, `no command suggested in: ${message}`);
    return m[1].trim().split(/\s+/);
}

describe("release tool messages", () => {
    describe("an explicitly empty value is an error naming its key", () => {
        const problem = "  - switchyard:traffic.canary.percent is empty; give it a value or remove the key";
        for (const [what, percent] of [
            ["percent: (nothing)", ""],
            ["percent: ~", " ~"],
        ]) {
            it(`${what}: flip and status refuse`, async () => {
                const dir = stackDir({ dev: CANARY_DEV(percent) });
                // An invalid stack file is bad input: the usage code in every command (cli/exitCodes.ts).
                await refused(
                    dir,
                    ["flip", "--stack", "dev"],
                    `switchyard: Pulumi.dev.yaml is not valid as it stands; fix it first:\n${problem}`,
                    2,
                );
                await refused(
                    dir,
                    ["status", "--stack", "dev"],
                    `switchyard: Pulumi.dev.yaml is not valid as it stands; fix it first:\n${problem}`,
                    2,
                );
            });
        }

        it("in the program too (Pulumi's config map), and anywhere in the tree", () => {
            const all = {
                "switchyard:service": '{"name":"web","port":null}',
                "switchyard:slots": `{"blue":{"image":"${A}"}}`,
                "switchyard:traffic": '{"live":"blue","canary":{"percent":null},"routes":[null]}',
            };
            assert.throws(
                () => parseConfig(rawFromPulumiConfig(all), "dev"),
                (e: ConfigError) => {
                    assert.deepEqual(e.problems, [
                        "switchyard:service.port is empty; give it a value or remove the key",
                        "switchyard:traffic.canary.percent is empty; give it a value or remove the key",
                        "switchyard:traffic.routes[0] is empty; give it a value or remove the key",
                    ]);
                    return true;
                },
            );
        });

        it(".inf is reported as Infinity, not null", async () => {
            const dir = stackDir({ dev: CANARY_DEV(" .inf") });
            await refused(
                dir,
                ["status", "--stack", "dev"],
                "switchyard: Pulumi.dev.yaml is not valid as it stands; fix it first:\n  - switchyard:traffic.canary.percent must be a whole number 1..99 (got Infinity)",
                2,
            );
        });

        it("a ConfigError is still a RunError to Pulumi (printed without a stack trace by pulumi up)", () => {
            assert.ok(RunError.isInstance(new ConfigError(["x"])));
        });
    });

    describe("advice works as printed", () => {
        it("start during a canary suggests rollback; that command works, and start then does", async () => {
            const dir = stackDir({ dev: CANARY_DEV(" 10") });
            const r = await run(["start", "--stack", "dev", "--image", C, "--dir", dir]);
            assert.equal(r.code, 1);
            assert.equal(
                r.err,
                "switchyard: green is the candidate but still receives production traffic (canary 10%), so the current release is not over; " +
                    "end it first, then start again: either undo it with npm run switchyard -- rollback --stack dev (removes the canary and routes), " +
                    "or complete it with npm run switchyard -- flip --stack dev",
            );
            const rollback = await run([...suggested(r.err), "--dir", dir]);
            assert.equal(rollback.code, 0, rollback.err);
            const start = await run(["start", "--stack", "dev", "--image", C, "--dir", dir]);
            assert.equal(start.code, 0, start.err);
        });

        it("start on a live build with a failing pulumi names --live-digest (the flag start takes), which then works", async () => {
            const dir = stackDir({ dev: TWO_IMAGES.replace(`image: ${A}`, "build: ./app") });
            fs.mkdirSync(path.join(dir, "bin"));
            fs.writeFileSync(path.join(dir, "bin", "pulumi"), "#!/bin/sh\necho 'error: no stack named dev' >&2\nexit 255\n", {
                mode: 0o755,
            });
            const env = { PATH: `${path.join(dir, "bin")}${path.delimiter}/usr/bin${path.delimiter}/bin` };
            const r = await run(["start", "--stack", "dev", "--image", C, "--dir", dir], env);
            assert.equal(
                r.err,
                "switchyard: pulumi stack output images --json --stack dev failed: error: no stack named dev; " +
                    "pass the digest with --live-digest <repo>@sha256:<digest>",
            );
            const again = await run(["start", "--stack", "dev", "--image", C, "--live-digest", A, "--dir", dir], env);
            assert.equal(again.code, 0, again.err);
        });

        it("rolling: start --build keeps the previous digest, so rollback names it; its command works as printed", async () => {
            const dir = stackDir({
                dev: `config:
  switchyard:strategy: rolling
  switchyard:service:
    name: web
  switchyard:slots:
    blue:
      image: ${A}
  switchyard:traffic:
    live: blue
`,
            });
            appContext(dir);
            const start = await run(["start", "--stack", "dev", "--build", "./app", "--dir", dir]);
            assert.equal(start.code, 0, start.err);
            assert.match(read(dir, "dev"), new RegExp(`build: \\./app # previous: ${A.replace(/\./g, "\\.")}\n`));
            const r = await run(["rollback", "--stack", "dev", "--dir", dir]);
            assert.equal(r.code, 1);
            assert.match(
                r.err,
                new RegExp(
                    `To roll back, roll the previous build out again: npm run switchyard -- start --stack dev --image ${A.replace(/\./g, "\\.")}$`,
                ),
            );
            const again = await run([...suggested(r.err.slice(r.err.indexOf("To roll back"))), "--dir", dir]);
            assert.equal(again.code, 0, again.err);
            assert.match(read(dir, "dev"), new RegExp(`image: ${A.replace(/\./g, "\\.")}\n`));
        });
    });

    describe("smaller", () => {
        it("--version prints the package version", async () => {
            const r = await run(["--version"]);
            assert.deepEqual([r.code, r.out], [0, "0.1.0"]);
        });

        it("status and verify say they read the stack file; the editing commands that they edit it", async () => {
            for (const cmd of ["status", "verify"])
                assert.match((await run([cmd, "--help"])).out, /--stack <name> +the stack: reads Pulumi\.<name>\.yaml/);
            for (const cmd of ["start", "canary", "flip", "rollback", "finish", "pin"])
                assert.match((await run([cmd, "--help"])).out, /--stack <name> +the stack: edits Pulumi\.<name>\.yaml/);
        });

        it("canary --stickiness sets the canary's stickiness; out of the ALB range is refused", async () => {
            const dir = stackDir({ dev: CANARY_DEV(" 10") });
            const r = await run(["canary", "--stack", "dev", "--percent", "20", "--stickiness", "3600", "--dir", dir]);
            assert.equal(r.code, 0, r.err);
            assert.match(
                r.out,
                /^green now gets 20% of production traffic \(was 10%\), blue 80%; a client stays on its colour for 3600 s\./,
            );
            assert.match(read(dir, "dev"), /canary:\n {6}percent: 20\n {6}stickiness: 3600\n/);
            await refused(
                dir,
                ["canary", "--stack", "dev", "--percent", "20", "--stickiness", "604801"],
                "error: option '--stickiness <seconds>' argument '604801' is invalid. must be a whole number of seconds 1..604800 " +
                    "(one week, the ALB limit), e.g. 3600.\n(run with --help for usage)",
                2,
            );
        });

        it("a sha512 digest is not called a mutable tag", async () => {
            const dir = stackDir({ dev: TWO_IMAGES });
            const ref = `${A.split("@")[0]}@sha512:${"a".repeat(128)}`;
            await refused(
                dir,
                ["start", "--stack", "dev", "--image", ref],
                `switchyard: --image ${ref} is not a valid digest reference: use <repo>@sha256:<64 lowercase hex>`,
                2, // bad input of a flag: the usage code (cli/exitCodes.ts)
            );
        });
    });
});
