/**
 * The release tool's answers (issue 15 items 7-11 and 13, issue 14 item 4): the schema guard
 * where a database schema is declared, digests of another repository, start during a rollback
 * window, retries as no-ops with one exit-code table (cli/exitCodes.ts), routes and stickiness by
 * command, build contexts that cannot be built, and a push that leaves ./app unchanged.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { EXIT } from "../../cli/exitCodes";
import { parseConfig } from "../../lib/config";
import { buildContentHash, buildContextTag } from "../../lib/images";
import { A, B, C, REPO, TWO_IMAGES, appContext, raw, read, run, stackDir } from "./fixtures";

const DB = `config:
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

/** The dev stack's first deploy: green builds ./app and is live. */
const BUILD_LIVE = `config:
  switchyard:service:
    name: web
  switchyard:slots:
    green:
      build: ./app
  switchyard:traffic:
    live: green
`;

const OTHER_REPO = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/other@sha256:${"d".repeat(64)}`;

/** Runs a command in `dir`; the file must be byte-for-byte unchanged unless `changes`. */
async function expect(
    dir: string,
    argv: string[],
    code: number,
    output: RegExp,
    changes = code === EXIT.ok,
): Promise<{ out: string; err: string }> {
    const before = read(dir, "dev");
    const r = await run([...argv, "--dir", dir], envOf(dir));
    assert.equal(r.code, code, `exit code of ${argv.join(" ")}: ${r.err}${r.out}`);
    assert.match(code === EXIT.ok ? r.out : r.err, output);
    if (!changes) assert.equal(read(dir, "dev"), before, `${argv.join(" ")} must not change the file`);
    return r;
}

/** A `pulumi` on PATH whose stack output `images` says what `images` says; none when not given. */
const pulumiImages = new Map<string, Record<string, string>>();
function envOf(dir: string): NodeJS.ProcessEnv {
    const images = pulumiImages.get(dir);
    if (!images) return { PATH: "" };
    const bin = path.join(dir, "bin");
    if (!fs.existsSync(bin)) {
        fs.mkdirSync(bin);
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho '${JSON.stringify(images)}'\n`, { mode: 0o755 });
    }
    return { PATH: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin` };
}

const slotsOf = (dir: string) => parseDocument(read(dir, "dev")).toJS().config["switchyard:slots"];
const trafficOf = (dir: string) => parseDocument(read(dir, "dev")).toJS().config["switchyard:traffic"];

describe("release tool answers", () => {
    describe("issue 15 item 7: where a database schema is declared, every build with traffic declares its own", () => {
        it("start without --schema (and none on the slot) is a usage error naming --schema", async () => {
            const dir = stackDir({ dev: DB });
            await expect(
                dir,
                ["start", "--stack", "dev", "--image", B],
                EXIT.usage,
                /^switchyard: --schema is required: switchyard:database\.schema is 3, and the new build \(--image web@sha256:bbbbbbbbbbbb\) declares no schema versions, so it could never take traffic; give the versions it runs against, e.g\. --schema 3$/,
            );
            await expect(dir, ["start", "--stack", "dev", "--image", B, "--schema", "3"], EXIT.ok, /^green \(candidate\) now holds/);
        });

        it("canary and flip refuse a candidate that declares no schema (the config model refuses the result too)", async () => {
            const dir = stackDir({ dev: DB.replace("  switchyard:traffic:", `    green:\n      image: ${B}\n  switchyard:traffic:`) });
            for (const argv of [
                ["canary", "--stack", "dev", "--percent", "10"],
                ["flip", "--stack", "dev"],
            ]) {
                await expect(
                    dir,
                    argv,
                    EXIT.refused,
                    /^switchyard: green \(web@sha256:bbbbbbbbbbbb\) declares no database schema, but switchyard:database\.schema is 3, so green cannot take traffic/,
                );
            }
        });

        it("promote carries the source's declaration, asks for --schema when it has none, and refuses a contradicting one", async () => {
            const stage = DB.replace(`image: ${A}`, `image: ${C}`);
            const dir = stackDir({ dev: TWO_IMAGES.replace("live: blue", "live: green"), stage });
            const promote = async (dir: string, extra: string[], code: number, message: RegExp) => {
                const before = read(dir, "stage");
                const r = await run(["promote", "--from", "dev", "--to", "stage", "--dir", dir, ...extra]);
                assert.equal(r.code, code, r.err);
                assert.match(code === EXIT.ok ? r.out : r.err, message);
                if (code !== EXIT.ok) assert.equal(read(dir, "stage"), before);
            };
            await promote(
                dir,
                [],
                EXIT.usage,
                /^switchyard: cannot promote web@sha256:bbbbbbbbbbbb from dev to stage: stage declares switchyard:database\.schema 3, and the build declares no schema versions in dev; say what it runs against with --schema \(e\.g\. --schema 3\)/,
            );
            await promote(
                dir,
                ["--schema", "3,4"],
                EXIT.ok,
                /^from dev \(live green\): green \(candidate\) now holds web@sha256:bbbbbbbbbbbb, schema \[3, 4\]/,
            );
            assert.deepEqual(parseDocument(read(dir, "stage")).toJS().config["switchyard:slots"].green, { image: B, schema: [3, 4] });

            const declared = stackDir({ dev: DB, stage });
            await promote(
                declared,
                ["--schema", "5"],
                EXIT.usage,
                /^switchyard: --schema \[5\] contradicts what dev declares for this build \(schema \[3, 4\]\); leave --schema out and promote carries the declaration$/,
            );
            await promote(
                declared,
                [],
                EXIT.ok,
                /^from dev \(live blue\): green \(candidate\) now holds web@sha256:aaaaaaaaaaaa, schema \[3, 4\]/,
            );
        });
    });

    describe("issue 15 item 8: pin and flip --digest refuse a digest of another repository (exit 2)", () => {
        it("pin: the stack output says where green's build was pushed", async () => {
            const dir = stackDir({ dev: BUILD_LIVE });
            pulumiImages.set(dir, { green: A });
            await expect(
                dir,
                ["pin", "--stack", "dev", "--digest", OTHER_REPO],
                EXIT.usage,
                new RegExp(
                    `^switchyard: --digest ${OTHER_REPO.replace(/\./g, "\\.")} is in repository 123456789012\\.dkr\\.ecr\\.eu-west-1\\.amazonaws\\.com/other, ` +
                        `but green builds \\./app into ${REPO.replace(/\./g, "\\.")}, so it cannot be the image this build pushed`,
                ),
            );
            await expect(dir, ["pin", "--stack", "dev", "--digest", A], EXIT.ok, /^green \(live\) pinned to web@sha256:aaaaaaaaaaaa/);
        });

        it("flip: known offline from an image this stack built (builtFrom), without pulumi", async () => {
            const dev = `config:
  switchyard:service:
    name: web
  switchyard:slots:
    blue:
      image: ${A}
      builtFrom: {context: ./app, hash: 0123456789abcdef}
    green:
      build: ./app
  switchyard:traffic:
    live: blue
`;
            const dir = stackDir({ dev });
            await expect(
                dir,
                ["flip", "--stack", "dev", "--digest", OTHER_REPO],
                EXIT.usage,
                /is in repository .*\/other, but green builds \.\/app into .*\/web,/,
            );
            await expect(
                dir,
                ["flip", "--stack", "dev", "--digest", B],
                EXIT.ok,
                /^green is now live \(was blue\), pinned to web@sha256:bbbbbbbbbbbb/,
            );
        });
    });

    it("issue 15 item 9: start while a flip's rollback window is open is refused, naming finish and rollback (exit 1)", async () => {
        const dir = stackDir({ dev: TWO_IMAGES.replace("live: blue", "live: green\n    previous: blue") });
        await expect(
            dir,
            ["start", "--stack", "dev", "--image", C],
            EXIT.refused,
            /^switchyard: blue was live before the last flip and is kept warm as the rollback target \(switchyard:traffic\.previous\); start would put the new build there and remove the way back\. End that release first: npm run switchyard -- finish --stack dev .* or npm run switchyard -- rollback --stack dev/,
        );
        assert.deepEqual(trafficOf(dir), { live: "green", previous: "blue" });
    });

    describe("issue 15 item 10: a step run again after it succeeded exits 0, says 'already so', and writes nothing", () => {
        it("start, canary, flip, rollback, finish and pin, each run twice", async () => {
            const dir = stackDir({ dev: BUILD_LIVE });
            const twice = async (argv: string[], first: RegExp, again: RegExp) => {
                await expect(dir, argv, EXIT.ok, first);
                const text = read(dir, "dev");
                const r = await expect(dir, argv, EXIT.ok, again, false);
                assert.match(r.out, /^already so: .*; .*Pulumi\.dev\.yaml unchanged$/);
                assert.equal(read(dir, "dev"), text);
            };
            await twice(
                ["pin", "--stack", "dev", "--digest", A],
                /^green \(live\) pinned/,
                /green \(live\) is already pinned to web@sha256:aaaaaaaaaaaa; nothing to do/,
            );
            await twice(
                ["start", "--stack", "dev", "--image", B],
                /^blue \(candidate\) now holds/,
                /blue \(candidate\) already holds web@sha256:bbbbbbbbbbbb; nothing to change/,
            );
            await twice(
                ["canary", "--stack", "dev", "--percent", "10"],
                /^blue now gets 10%/,
                /blue already gets 10% of production traffic, green 90%/,
            );
            await twice(
                ["flip", "--stack", "dev"],
                /^blue is now live \(was green\)/,
                /blue is live since the last flip \(from green, which stays warm for rollback\)/,
            );
            await twice(
                ["rollback", "--stack", "dev"],
                /^green is live again \(was blue\)/,
                /nothing to roll back: green \(live\) already gets all production traffic/,
            );
            await twice(
                ["finish", "--stack", "dev"],
                /^blue \(web@sha256:bbbbbbbbbbbb, not live\) is scaled down/,
                /nothing to finish: blue is already idle/,
            );
        });

        it("a repeated flag is a usage error, not its last value", async () => {
            const dir = stackDir({ dev: TWO_IMAGES });
            await expect(
                dir,
                ["canary", "--stack", "dev", "--percent", "10", "--percent", "20"],
                EXIT.usage,
                /^error: option '--percent <n>' is given 2 times \(--percent 10, --percent 20\); give it once/,
            );
            await expect(
                dir,
                ["canary", "--stack", "dev", "--percent=10", "--stack", "dev"],
                EXIT.usage,
                /option '--stack <name>' is given 2 times/,
            );
            await expect(
                dir,
                ["canary", "--stack", "dev", "--percent", "10", "--stickiness", "60", "--no-stickiness"],
                EXIT.usage,
                /^error: --stickiness 60 and --no-stickiness contradict each other; give one of them/,
            );
        });

        it("an out-of-range --schema is a usage error", async () => {
            const dir = stackDir({ dev: DB });
            await expect(
                dir,
                ["start", "--stack", "dev", "--image", B, "--schema", "3..2000000"],
                EXIT.usage,
                /^error: option '--schema <versions>' argument '3\.\.2000000' is invalid\. --schema versions must be 0\.\.1000000 \(got 2000000\)\./,
            );
        });
    });

    describe("issue 15 item 11: routes and stickiness by command", () => {
        it("route add writes the route the flags describe, with its priority; again: already so; route remove removes it", async () => {
            const dir = stackDir({ dev: TWO_IMAGES });
            await expect(
                dir,
                [
                    "route",
                    "add",
                    "--stack",
                    "dev",
                    "--color",
                    "green",
                    "--header",
                    "x-beta-user=alice,bob",
                    "--source-ip",
                    "203.0.113.0/24",
                    "--source-ip",
                    "198.51.100.0/24",
                ],
                EXIT.ok,
                /^requests with header x-beta-user=alice\|bob and source IP 203\.0\.113\.0\/24\|198\.51\.100\.0\/24 now go to green \(route priority 1\)\. Next: pulumi up --stack dev; to undo: npm run switchyard -- route remove --stack dev --priority 1$/,
            );
            await expect(
                dir,
                [
                    "route",
                    "add",
                    "--stack",
                    "dev",
                    "--color",
                    "green",
                    "--cookie",
                    "beta=1",
                    "--query",
                    "v=2",
                    "--host",
                    "beta.example.com",
                    "--priority",
                    "7",
                ],
                EXIT.ok,
                /now go to green \(route priority 7\)/,
            );
            assert.deepEqual(trafficOf(dir).routes, [
                {
                    color: "green",
                    priority: 1,
                    header: { name: "x-beta-user", values: ["alice", "bob"] },
                    sourceIps: ["203.0.113.0/24", "198.51.100.0/24"],
                },
                { color: "green", cookie: { name: "beta", value: "1" }, hosts: ["beta.example.com"], query: { v: "2" }, priority: 7 },
            ]);
            assert.equal(parseConfig(rawOf(dir), "dev").traffic.routes.length, 2);
            await expect(
                dir,
                [
                    "route",
                    "add",
                    "--stack",
                    "dev",
                    "--color",
                    "green",
                    "--cookie",
                    "beta=1",
                    "--query",
                    "v=2",
                    "--host",
                    "beta.example.com",
                ],
                EXIT.ok,
                /^already so: a route with priority 7 already sends/,
                false,
            );
            await expect(
                dir,
                ["route", "remove", "--stack", "dev", "--priority", "1"],
                EXIT.ok,
                /^removed the route that sent header x-beta-user=alice\|bob .* to green \(priority 1\)/,
            );
            assert.deepEqual(trafficOf(dir).routes, [
                { color: "green", priority: 7, cookie: { name: "beta", value: "1" }, hosts: ["beta.example.com"], query: { v: "2" } },
            ]);
            await expect(
                dir,
                ["route", "remove", "--stack", "dev", "--priority", "1"],
                EXIT.ok,
                /^already so: no route has priority 1 \(the routes have 7\); nothing to remove/,
                false,
            );
            await expect(dir, ["route", "remove", "--stack", "dev", "--priority", "7"], EXIT.ok, /^removed the route/);
            assert.deepEqual(trafficOf(dir), { live: "blue" });
        });

        it("route add checks the route with the config model's own rules: usage errors naming the key", async () => {
            const dir = stackDir({ dev: TWO_IMAGES });
            const add = (...flags: string[]) => ["route", "add", "--stack", "dev", "--color", "green", ...flags];
            await expect(dir, add("--header", "x-beta"), EXIT.usage, /^switchyard: --header x-beta must be NAME=VALUE\[,VALUE…\]/);
            await expect(
                dir,
                add(),
                EXIT.usage,
                /^switchyard: route add needs at least one condition: --header, --cookie, --source-ip, --host or --query$/,
            );
            await expect(
                dir,
                add("--host", "beta_1.example.com"),
                EXIT.usage,
                /^switchyard: the route given by the flags is not valid \(it would be switchyard:traffic\.routes\[0\]\): switchyard:traffic\.routes\[0\]\.hosts\[0\] must be a host name/,
            );
            await expect(
                dir,
                add("--header", "x-beta=a,b,c,d"),
                EXIT.usage,
                /switchyard:traffic\.routes\[0\]\.header\.values has 4 values; an ALB condition matches at most 3/,
            );
            await expect(
                dir,
                ["route", "add", "--stack", "dev", "--color", "purple", "--cookie", "a=1"],
                EXIT.usage,
                /option '--color <color>' argument 'purple' is invalid/,
            );
            // A listener rule's priority is 1..50000: botocore data/elbv2/2015-12-01/service-2.json, shape RulePriority {min: 1, max: 50000}.
            await expect(
                dir,
                add("--cookie", "a=1", "--priority", "50001"),
                EXIT.usage,
                /option '--priority <n>' argument '50001' is invalid\. must be a whole number 1\.\.50000/,
            );
            // The state, not the flags: a route to an empty colour is refused by the config model (exit 1).
            const empty = stackDir({ dev: TWO_IMAGES.replace(`    green:\n      image: ${B}\n`, "") });
            await expect(empty, add("--cookie", "beta=1"), EXIT.refused, /switchyard:slots\.green is empty but green receives traffic/);
        });

        it("canary --no-stickiness removes the canary's stickiness", async () => {
            const dir = stackDir({ dev: `${TWO_IMAGES}    canary:\n      percent: 10\n      stickiness: 3600\n` });
            await expect(
                dir,
                ["canary", "--stack", "dev", "--percent", "20", "--no-stickiness"],
                EXIT.ok,
                /^green now gets 20% of production traffic \(was 10%\), blue 80%; stickiness removed/,
            );
            assert.deepEqual(trafficOf(dir), { live: "blue", canary: { percent: 20 } });
            await expect(
                dir,
                ["canary", "--stack", "dev", "--percent", "20", "--no-stickiness"],
                EXIT.ok,
                /^already so: green already gets 20%/,
                false,
            );
        });
    });

    // @pulumi/docker builds `Dockerfile` in the context when none is named: "if left blank, we assume
    // traditional location of Dockerfile within the Docker build context"
    // (https://github.com/pulumi/pulumi-docker/releases/tag/v4.0.1; cli/commands/buildContext.ts).
    it("issue 15 item 13: start --build needs a folder with a Dockerfile (exit 2)", async () => {
        const dir = stackDir({ dev: TWO_IMAGES.replace(`    green:\n      image: ${B}\n`, "") });
        await expect(
            dir,
            ["start", "--stack", "dev", "--build", "./app"],
            EXIT.usage,
            /^switchyard: --build \.\/app \(.*\/app\) does not exist; give the folder that holds the Dockerfile, relative to --dir$/,
        );
        fs.writeFileSync(path.join(dir, "app"), "not a folder");
        await expect(
            dir,
            ["start", "--stack", "dev", "--build", "./app"],
            EXIT.usage,
            /^switchyard: --build \.\/app \(.*\/app\) is not a folder/,
        );
        fs.rmSync(path.join(dir, "app"));
        fs.mkdirSync(path.join(dir, "app"));
        await expect(dir, ["start", "--stack", "dev", "--build", "./app"], EXIT.usage, /has no Dockerfile, which pulumi up builds from/);
        appContext(dir);
        await expect(dir, ["start", "--stack", "dev", "--build", "./app"], EXIT.ok, /^green \(candidate\) now holds build \.\/app/);
    });

    describe("issue 14 item 4: a push that leaves ./app unchanged does not release", () => {
        it("flip records what the build was built from (the image tag's own hash); start --build of the same content writes nothing", async () => {
            const dir = stackDir({ dev: TWO_IMAGES.replace(`image: ${B}`, "build: ./app") });
            const app = appContext(dir);
            const hash = buildContentHash(app);
            assert.equal(buildContextTag(app), `build-${hash}`); // one function for the tag and the record
            await expect(dir, ["flip", "--stack", "dev", "--digest", B], EXIT.ok, /^green is now live/);
            assert.deepEqual(slotsOf(dir).green, { image: B, builtFrom: { context: "./app", hash } });
            await expect(dir, ["finish", "--stack", "dev"], EXIT.ok, /scaled down/);

            // The next push, ./app unchanged (what .github/workflows/deploy.yml runs: start --build ./app --stack dev).
            await expect(
                dir,
                ["start", "--build", "./app", "--stack", "dev"],
                EXIT.ok,
                new RegExp(
                    `^already so: \\./app is unchanged since the live build: green \\(live\\) runs web@sha256:bbbbbbbbbbbb, built from \\./app with content hash ${hash}, the hash \\./app has now; nothing to release; .*Pulumi\\.dev\\.yaml unchanged$`,
                ),
                false,
            );
            // A changed ./app releases: blue builds it.
            fs.writeFileSync(path.join(app, "server.js"), "console.log('v2');\n");
            await expect(
                dir,
                ["start", "--build", "./app", "--stack", "dev"],
                EXIT.ok,
                /^blue \(candidate\) now holds build \.\/app \(was web@sha256:aaaaaaaaaaaa\)/,
            );
            // The candidate already building that content: already so.
            await expect(
                dir,
                ["start", "--build", "./app", "--stack", "dev"],
                EXIT.ok,
                /^already so: blue \(candidate\) already holds build \.\/app/,
                false,
            );
        });

        it("pin records it too; start --image over a pinned build drops the record (it described the old image)", async () => {
            const dir = stackDir({ dev: BUILD_LIVE });
            const hash = buildContentHash(appContext(dir));
            await expect(
                dir,
                ["pin", "--stack", "dev", "--digest", A],
                EXIT.ok,
                new RegExp(`pinned to web@sha256:aaaaaaaaaaaa, built from \\./app \\(content hash ${hash}\\)`),
            );
            assert.deepEqual(slotsOf(dir).green, { image: A, builtFrom: { context: "./app", hash } });
            await expect(dir, ["start", "--stack", "dev", "--image", B], EXIT.ok, /^blue \(candidate\) now holds/);
            await expect(dir, ["flip", "--stack", "dev"], EXIT.ok, /^blue is now live/);
            await expect(dir, ["finish", "--stack", "dev"], EXIT.ok, /scaled down/);
            await expect(dir, ["start", "--stack", "dev", "--image", C], EXIT.ok, /^green \(candidate\) now holds web@sha256:cccccccccccc/);
            assert.deepEqual(slotsOf(dir).green, { image: C });
        });

        it("the config model checks builtFrom: only on an image, with a context and a 16-hex hash", () => {
            const problems = (slot: Record<string, unknown>) => {
                try {
                    parseConfig(raw({ slots: { blue: slot } }), "dev");
                    return [];
                } catch (e) {
                    return (e as { problems: string[] }).problems;
                }
            };
            assert.deepEqual(problems({ image: A, builtFrom: { context: "./app", hash: "0123456789abcdef" } }), []);
            assert.deepEqual(problems({ build: "./app", builtFrom: { context: "./app", hash: "0123456789abcdef" } }), [
                "switchyard:slots.blue.builtFrom belongs to an image pinned from a build (flip and pin record it); a slot without image has nothing pinned: remove builtFrom",
            ]);
            assert.deepEqual(problems({ image: A, builtFrom: { context: "./app", hash: "build-0123" } }), [
                "switchyard:slots.blue.builtFrom.hash must be the build's content hash, 16 lowercase hex digits (the image tag's part after build-) (got 'build-0123')",
            ]);
        });
    });
});

function rawOf(dir: string): Record<string, unknown> {
    const config = parseDocument(read(dir, "dev")).toJS().config as Record<string, unknown>;
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^switchyard:/, ""), v]));
}
