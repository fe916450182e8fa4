import { strict as assert } from "node:assert";
import { parseConfig } from "../../lib/config";
import * as release from "../../lib/release";
import { A, B, C, applied, cfg, edits, raw, refusal } from "./fixtures";

const blueGreenWithGreen = (over: Record<string, unknown> = {}) => ({
    slots: { blue: { image: A, schema: [3, 4] }, green: { image: B, schema: [3, 4] } },
    database: { schema: 3 },
    ...over,
});

describe("release steps", () => {
    describe("start", () => {
        it("puts a pinned image into the empty candidate slot; traffic unchanged", () => {
            const r = raw();
            const res = release.start(cfg(), { image: B });
            // The empty slot is filled, so a comment calling it empty would now be false.
            assert.deepEqual(edits(res), [
                { op: "set", path: ["slots", "green", "image"], value: B, replaces: "build", obsoleteComment: /\bgreen is empty\b/ },
            ]);
            const next = applied(r, res).cfg;
            assert.deepEqual(next.slots.green, { kind: "image", image: B, schema: undefined, idle: false });
            assert.deepEqual(next.traffic, parseConfig(r, "dev").traffic);
            assert.match(
                (res as { summary: string }).summary,
                /^green \(candidate\) now holds web@sha256:bbbbbbbbbbbb .*Next: pulumi up --stack dev/,
            );
        });

        it("replaces a build with an image in place, clears idle and traffic.previous, keeps the schema", () => {
            const r = raw({
                slots: { blue: { image: A }, green: { build: "./app", schema: [3], idle: true } },
                traffic: { live: "blue" },
            });
            // previous cannot coexist with an idle candidate, so test previous separately below
            const next = applied(r, release.start(cfg(r), { image: C })).raw;
            assert.deepEqual((next.slots as Record<string, unknown>).green, { schema: [3], image: C });
        });

        // Issue 15 item 9: start used to clear traffic.previous, silently removing the rollback target.
        it("refuses while a flip's rollback window is open (traffic.previous), naming finish and rollback", () => {
            const r = raw({ slots: { blue: { image: A }, green: { image: B } }, traffic: { live: "green", previous: "blue" } });
            assert.equal(
                refusal(release.start(cfg(r), { image: C })),
                "blue was live before the last flip and is kept warm as the rollback target (switchyard:traffic.previous); start " +
                    "would put the new build there and remove the way back. End that release first: npm run switchyard -- finish " +
                    "--stack dev (keeps green live, scales blue down), or npm run switchyard -- rollback --stack dev (blue live again); then start",
            );
        });

        it("sets a build context and the given schema (versions or range)", () => {
            const r = raw({ slots: { blue: { image: A, schema: [4] } }, database: { schema: 4 } });
            const versions = applied(r, release.start(cfg(r), { build: "./app", schema: { versions: [4, 5] } })).raw;
            assert.deepEqual((versions.slots as Record<string, unknown>).green, { build: "./app", schema: [4, 5] });
            const range = applied(r, release.start(cfg(r), { image: B, schema: { min: 3, max: 5 } })).raw;
            assert.deepEqual((range.slots as Record<string, unknown>).green, { image: B, schema: { min: 3, max: 5 } });
        });

        it("refuses a mutable tag, naming the fix", () => {
            assert.match(refusal(release.start(cfg(), { image: "web:latest" })), /--image web:latest is a mutable tag; pin it by digest/);
            assert.match(refusal(release.start(cfg(), { image: `${REPO_TAG}@sha256:abc` })), /not a valid digest reference/);
        });

        it("refuses neither or both of image and build", () => {
            assert.match(refusal(release.start(cfg(), {})), /exactly one of --image/);
            assert.match(refusal(release.start(cfg(), { image: B, build: "./app" })), /exactly one of --image/);
        });

        it("refuses while the candidate has a canary or a route, suggesting rollback or flip (finish would refuse)", () => {
            const canary = blueGreenWithGreen({ traffic: { live: "blue", canary: { percent: 10 } } });
            assert.match(
                refusal(release.start(cfg(canary), { image: C })),
                new RegExp(
                    "^green is the candidate but still receives production traffic \\(canary 10%\\), so the current release is not over; " +
                        "end it first, then start again: either undo it with npm run switchyard -- rollback --stack dev \\(removes the canary " +
                        "and routes\\), or complete it with npm run switchyard -- flip --stack dev$",
                ),
            );
            const routed = blueGreenWithGreen({ traffic: { live: "blue", routes: [{ color: "green", sourceIps: ["10.0.0.0/8"] }] } });
            assert.match(refusal(release.start(cfg(routed), { image: C })), /\(traffic\.routes\[0\]\), so the current release is not over/);
        });

        it("refuses a build whose schema (given or kept) does not include database.schema", () => {
            const r = raw({ slots: { blue: { image: A, schema: [5] } }, database: { schema: 5 } });
            assert.match(
                refusal(release.start(cfg(r), { image: B, schema: { versions: [3, 4] } })),
                /schema \[3, 4\], which does not include switchyard:database.schema 5/,
            );
            const kept = raw({
                slots: { blue: { image: A, schema: [3] }, green: { image: B, schema: { min: 1, max: 2 } } },
                database: { schema: 3 },
            });
            assert.match(
                refusal(release.start(cfg(kept), { image: C })),
                /schema kept from the slot.*1\.\.2, which does not include switchyard:database.schema 3/,
            );
        });

        it("pins a live build slot to its digest, so only the candidate can change during the release", () => {
            const r = raw({ slots: { blue: { build: "./app" } } });
            const res = release.start(cfg(r), { build: "./app", liveDigest: A });
            assert.deepEqual(edits(res), [
                { op: "set", path: ["slots", "blue", "image"], value: A, replaces: "build" },
                { op: "set", path: ["slots", "green", "build"], value: "./app", replaces: "image", obsoleteComment: /\bgreen is empty\b/ },
            ]);
            assert.match((res as { summary: string }).summary, /blue \(live\) pinned to web@sha256:aaaaaaaaaaaa/);
            assert.deepEqual(applied(r, res).cfg.slots.blue, { kind: "image", image: A, schema: undefined, idle: false });
        });

        it("refuses to start while the live slot is a build and no digest for it is known", () => {
            const r = raw({ slots: { blue: { build: "./app" } } });
            assert.match(
                refusal(release.start(cfg(r), { image: B })),
                /blue \(live\) is a build \(\.\/app\) and start pins it to its digest first.*pass --live-digest <repo>@sha256:<digest>/,
            );
            assert.match(
                refusal(release.start(cfg(r), { image: B, liveDigest: "web:v1" })),
                /--live-digest web:v1 is not <repo>@sha256:<64 hex>/,
            );
        });

        it("rolling: replaces the single slot's image and records the previous digest as a note", () => {
            const r = raw({ strategy: "rolling" });
            const res = release.start(cfg(r), { image: B });
            assert.deepEqual(edits(res), [
                { op: "set", path: ["slots", "blue", "image"], value: B, replaces: "build", note: `previous: ${A}` },
            ]);
            assert.match((res as { summary: string }).summary, /only fleet, rolling/);
            assert.equal(applied(r, res).cfg.traffic.live, "blue");
        });
    });

    describe("canary", () => {
        const r = raw(blueGreenWithGreen({ traffic: { live: "blue", canary: { percent: 5, stickiness: 60 } } }));
        it("sets the percent and keeps stickiness", () => {
            const next = applied(r, release.canary(cfg(r), { percent: 25 })).cfg;
            assert.deepEqual(next.traffic.canary, { percent: 25, stickiness: 60 });
        });
        it("refuses out-of-range percents", () => {
            for (const p of [0, 100, 2.5])
                assert.match(refusal(release.canary(cfg(r), { percent: p })), /--percent must be a whole number 1..99/);
        });
        it("refuses an empty candidate", () => {
            assert.match(refusal(release.canary(cfg(), { percent: 10 })), /green \(the candidate\) is empty; put a build there first/);
        });
        it("refuses an idle candidate", () => {
            const idle = raw({ slots: { blue: { image: A }, green: { image: B, idle: true } } });
            assert.match(refusal(release.canary(cfg(idle), { percent: 10 })), /green \(the candidate\) is idle/);
        });
        it("refuses the previous live colour (after a flip): that is rollback", () => {
            const flipped = raw({ slots: { blue: { image: A }, green: { image: B } }, traffic: { live: "green", previous: "blue" } });
            assert.match(
                refusal(release.canary(cfg(flipped), { percent: 10 })),
                /blue is the colour that was live before the last flip.*use rollback/,
            );
        });
        it("refuses a candidate that does not support database.schema", () => {
            const bad = raw({ slots: { blue: { image: A, schema: [3] }, green: { image: B, schema: [2] } }, database: { schema: 3 } });
            assert.match(
                refusal(release.canary(cfg(bad), { percent: 10 })),
                /green \(web@sha256:bbbbbbbbbbbb\) supports database schema \[2\]/,
            );
        });
        it("refuses in rolling mode, explaining it", () => {
            assert.match(
                refusal(release.canary(cfg({ strategy: "rolling" }), { percent: 10 })),
                /strategy is rolling, so there is one fleet \(blue\).*start --stack dev --image/,
            );
        });
    });

    describe("flip", () => {
        it("makes the candidate live, removes the canary, records previous", () => {
            const r = raw(blueGreenWithGreen({ traffic: { live: "blue", canary: { percent: 50 } } }));
            const res = release.flip(cfg(r));
            const next = applied(r, res).cfg;
            assert.deepEqual(next.traffic, { live: "green", canary: undefined, routes: [], previous: "blue" });
            assert.equal(next.slots.blue?.idle, false);
            assert.match(
                (res as { summary: string }).summary,
                /^green is now live \(was blue\); blue stays warm for rollback\. Next: pulumi up --stack dev, then verify; later finish$/,
            );
        });
        it("leaves routes to the candidate and says so", () => {
            const r = raw(
                blueGreenWithGreen({ traffic: { live: "blue", routes: [{ color: "green", header: { name: "x-beta", values: ["1"] } }] } }),
            );
            const res = release.flip(cfg(r));
            assert.equal(applied(r, res).cfg.traffic.routes.length, 1);
            assert.match((res as { summary: string }).summary, /1 route to green left as they are/);
        });
        it("refuses when a route sends traffic to the old live colour", () => {
            const r = raw(
                blueGreenWithGreen({
                    traffic: {
                        live: "blue",
                        routes: [
                            { color: "green", sourceIps: ["10.0.0.0/8"] },
                            { color: "blue", sourceIps: ["10.1.0.0/16"] },
                        ],
                    },
                }),
            );
            // Issue 15 item 11: the refusal names the command that removes the route, not "the file".
            assert.equal(
                refusal(release.flip(cfg(r))),
                "traffic.routes[1] (priority 2) sends requests to blue, which would keep serving the old build after the flip " +
                    "(and finish could not scale it down); remove it first: npm run switchyard -- route remove --stack dev --priority 2",
            );
        });
        it("pins a build slot to the given digest as it goes live", () => {
            const r = raw({ slots: { blue: { image: A }, green: { build: "./app", schema: [3] } } });
            const next = applied(r, release.flip(cfg(r), { digest: B })).raw;
            assert.deepEqual((next.slots as Record<string, unknown>).green, { schema: [3], image: B });
        });
        it("refuses a build slot without a digest, saying how to pass one", () => {
            const r = raw({ slots: { blue: { image: A }, green: { build: "./app" } } });
            assert.match(
                refusal(release.flip(cfg(r))),
                /green is a build \(\.\/app\).*pass --digest <repo>@sha256:<digest>.*pulumi stack output images --json --stack dev/,
            );
            assert.match(refusal(release.flip(cfg(r), { digest: "web:v1" })), /^--digest web:v1 is a mutable tag; pin it by digest/);
            // An empty value (e.g. "$(pulumi stack output …)" where pulumi printed nothing) is called empty, not a tag.
            assert.equal(
                refusal(release.flip(cfg(r), { digest: "" })),
                "--digest is empty; give a digest-pinned image, <repo>@sha256:<64 hex>",
            );
        });
        it("refuses a --digest that contradicts an image slot", () => {
            const r = raw(blueGreenWithGreen());
            assert.match(refusal(release.flip(cfg(r), { digest: C })), /does not match green's image/);
            assert.ok(release.flip(cfg(r), { digest: B }).ok);
        });
        it("refuses an empty, idle or incompatible candidate", () => {
            assert.match(refusal(release.flip(cfg())), /green \(the candidate\) is empty/);
            assert.match(refusal(release.flip(cfg({ slots: { blue: { image: A }, green: { image: B, idle: true } } }))), /is idle/);
            assert.match(
                refusal(
                    release.flip(
                        cfg({
                            slots: { blue: { image: A, schema: [3] }, green: { image: B, schema: { min: 4, max: 6 } } },
                            database: { schema: 3 },
                        }),
                    ),
                ),
                /4\.\.6, which does not include switchyard:database.schema 3/,
            );
        });
        it("refuses in rolling mode", () => {
            assert.match(
                refusal(release.flip(cfg({ strategy: "rolling" }))),
                /flip does not apply to stack dev: switchyard:strategy is rolling/,
            );
        });
    });

    describe("rollback", () => {
        it("after a flip: previous is live again, previous removed (the flip reversed)", () => {
            const r = raw(blueGreenWithGreen());
            const flipped = applied(r, release.flip(cfg(r)));
            const back = applied(flipped.raw, release.rollback(flipped.cfg));
            assert.deepEqual(back.raw, r);
        });
        it("after a flip, removes the routes to the colour it rolls back from: those users would stay on the failing build", () => {
            const routes = [{ color: "green", cookie: { name: "beta", value: "1" } }];
            const r = raw(blueGreenWithGreen({ traffic: { live: "blue", routes } }));
            const flipped = applied(r, release.flip(cfg(r)));
            const res = release.rollback(flipped.cfg);
            assert.deepEqual(applied(flipped.raw, res).raw, raw(blueGreenWithGreen({ traffic: { live: "blue" } })));
            assert.match((res as { summary: string }).summary, /; removed 1 route to green\. /);
        });
        it("after a flip, keeps a route (added by hand) to the colour it rolls back to", () => {
            const toBlue = { color: "blue", sourceIps: ["10.0.0.0/8"] };
            const toGreen = { color: "green", header: { name: "x-beta", values: ["1"] } };
            const r = raw(blueGreenWithGreen({ traffic: { live: "green", previous: "blue", routes: [toGreen, toBlue, toGreen] } }));
            const back = applied(r, release.rollback(cfg(r)));
            assert.deepEqual((back.raw.traffic as { routes: unknown[] }).routes, [toBlue]);
            assert.equal(back.cfg.traffic.live, "blue");
        });
        it("during a canary or with routes: removes both, live stays", () => {
            const r = raw(
                blueGreenWithGreen({
                    traffic: { live: "blue", canary: { percent: 20 }, routes: [{ color: "green", sourceIps: ["10.0.0.0/8"] }] },
                }),
            );
            const res = release.rollback(cfg(r));
            assert.deepEqual(edits(res), [
                { op: "delete", path: ["traffic", "canary"] },
                { op: "delete", path: ["traffic", "routes"] },
            ]);
            assert.deepEqual(applied(r, res).cfg.traffic, { live: "blue", canary: undefined, routes: [], previous: undefined });
            assert.match(
                (res as { summary: string }).summary,
                /^removed canary 20% and 1 route to green; blue serves all production traffic/,
            );
        });
        // Issue 15 item 10: a rollback run again (or with nothing to undo) is a no-op, not a failure.
        it("with nothing to roll back: already so, nothing to write", () => {
            assert.deepEqual(release.rollback(cfg(blueGreenWithGreen())), {
                ok: true,
                edits: [],
                summary:
                    "nothing to roll back: blue (live) already gets all production traffic (no canary, no route to green, and no flip " +
                    "to undo since the last rollback or finish)",
                already: true,
            });
        });
        it("refuses to roll back to a build that cannot run on the current schema", () => {
            const r = raw({
                slots: { blue: { image: A, schema: [2] }, green: { image: B, schema: [3] } },
                traffic: { live: "green", previous: "blue" },
                database: { schema: 3 },
            });
            assert.match(
                refusal(release.rollback(cfg(r))),
                /cannot roll back to blue: blue \(web@sha256:aaaaaaaaaaaa\) supports database schema \[2\]/,
            );
        });
        it("rolling: refuses, printing the recorded previous digest as the way back", () => {
            const c = cfg({ strategy: "rolling" });
            assert.match(
                refusal(release.rollback(c, { rollingPrevious: C })),
                new RegExp(
                    `To roll back, roll the previous build out again: npm run switchyard -- start --stack dev --image ${C.replace(/[.]/g, "\\.")}$`,
                ),
            );
            assert.match(refusal(release.rollback(c)), /no previous digest is recorded.*git log -p Pulumi\.dev\.yaml/);
        });
    });

    describe("finish", () => {
        it("scales the old colour down and removes previous", () => {
            const r = raw({ slots: { blue: { image: A }, green: { image: B } }, traffic: { live: "green", previous: "blue" } });
            const res = release.finish(cfg(r));
            assert.deepEqual(edits(res), [
                { op: "set", path: ["slots", "blue", "idle"], value: true },
                { op: "delete", path: ["traffic", "previous"] },
            ]);
            const next = applied(r, res).cfg;
            assert.equal(next.slots.blue?.idle, true);
            assert.equal(next.traffic.previous, undefined);
            assert.match((res as { summary: string }).summary, /Next: pulumi up --stack dev, then start the next release when ready$/);
        });
        it("with autoscaling, says to apply with --refresh (the state may hold the old colour's count from before it was autoscaled)", () => {
            const r = raw({
                service: { name: "web", desiredCount: 2, minHealthyTargets: 2, autoscaling: { min: 2, max: 6, cpuPercent: 60 } },
                slots: { blue: { image: A }, green: { image: B } },
                traffic: { live: "green", previous: "blue" },
            });
            assert.match(
                (release.finish(cfg(r)) as { summary: string }).summary,
                /Next: pulumi up --refresh --stack dev, then start the next release when ready$/,
            );
        });
        it("refuses while the candidate has traffic", () => {
            const r = raw(blueGreenWithGreen({ traffic: { live: "blue", canary: { percent: 10 } } }));
            assert.match(
                refusal(release.finish(cfg(r))),
                /green still receives production traffic \(canary 10%\); flip or rollback before finish/,
            );
        });
        it("with no old colour to scale down: already so (a finish run again writes nothing)", () => {
            const empty = release.finish(cfg());
            assert.deepEqual(edits(empty), []);
            assert.equal(empty.ok && empty.already, true);
            const idle = release.finish(cfg({ slots: { blue: { image: A }, green: { image: B, idle: true } } }));
            assert.deepEqual(idle, { ok: true, edits: [], summary: "nothing to finish: green is already idle (0 tasks)", already: true });
        });
        it("refuses in rolling mode", () => {
            assert.match(refusal(release.finish(cfg({ strategy: "rolling" }))), /finish does not apply.*rolling/);
        });
    });

    describe("promote", () => {
        it("copies the live digest and its schema into the target's candidate slot", () => {
            const dev = cfg({
                slots: { blue: { image: A }, green: { image: B, schema: { min: 3, max: 4 } } },
                traffic: { live: "green", previous: "blue" },
            });
            const prodRaw = raw({
                slots: { blue: { image: A, schema: [3] }, green: { image: C, schema: [9], idle: true } },
                database: { schema: 3 },
                environment: "production",
                testAccess: { cidrs: ["10.0.0.0/8"] },
            });
            const res = release.promote(dev, cfg(prodRaw, "prod"));
            const next = applied(prodRaw, res, "prod");
            assert.deepEqual((next.raw.slots as Record<string, unknown>).green, { image: B, schema: { min: 3, max: 4 } });
            assert.equal(next.cfg.traffic.live, "blue");
            assert.match(
                (res as { summary: string }).summary,
                /^from dev \(live green\): green \(candidate\) now holds.*pulumi up --stack prod/,
            );
        });
        it("removes the target slot's schema when the promoted build declares none", () => {
            const prodRaw = raw({ slots: { blue: { image: A }, green: { image: C, schema: [3] } } });
            const next = applied(prodRaw, release.promote(cfg(), cfg(prodRaw, "stage")), "stage");
            assert.deepEqual((next.raw.slots as Record<string, unknown>).green, { image: A });
        });
        it("refuses a source whose live slot is a build", () => {
            const dev = cfg({ slots: { blue: { build: "./app" } } });
            assert.match(
                refusal(release.promote(dev, cfg(prod({}), "prod"))),
                /dev's live slot blue is a build \(\.\/app\), not pinned to a digest/,
            );
        });
        it("refuses when the target's candidate has traffic", () => {
            const target = cfg(prod(blueGreenWithGreen({ traffic: { live: "blue", canary: { percent: 10 } } })), "prod");
            assert.match(
                refusal(release.promote(cfg({ slots: { blue: { image: A, schema: [3] } } }), target)),
                /cannot promote .* from dev to prod: green is the candidate but still receives production traffic/,
            );
        });
        it("refuses a schema the target's database cannot run", () => {
            const dev = cfg({ slots: { blue: { image: A, schema: [4] } } });
            assert.match(
                refusal(release.promote(dev, cfg(prod({ slots: { blue: { image: C, schema: [3] } }, database: { schema: 3 } }), "prod"))),
                /\[4\], which does not include switchyard:database.schema 3/,
            );
        });
    });

    describe("parseSchemaArg", () => {
        it("parses versions and ranges, and rejects anything else", () => {
            assert.deepEqual(release.parseSchemaArg("3,4"), { versions: [3, 4] });
            assert.deepEqual(release.parseSchemaArg("5"), { versions: [5] });
            assert.deepEqual(release.parseSchemaArg("3..5"), { min: 3, max: 5 });
            assert.ok("error" in release.parseSchemaArg("5..3"));
            assert.ok("error" in release.parseSchemaArg("three"));
        });
    });

    describe("runStep", () => {
        it("refuses to edit a stack file that is already invalid", () => {
            const out = release.runStep({ service: { name: "web" }, slots: {}, traffic: { live: "blue" } }, "dev", (c) =>
                release.finish(c),
            );
            assert.ok(!out.ok);
            assert.match(out.refusal, /Pulumi.dev.yaml is not valid as it stands; fix it first/);
        });
        it("re-validates a step's edits with parseConfig (a backstop for a step that forgets a check)", () => {
            const careless = () => ({
                ok: true as const,
                edits: [{ op: "set" as const, path: ["traffic", "canary", "percent"] as ["traffic", string, string], value: 150 }],
                summary: "",
            });
            const out = release.runStep(raw(), "dev", careless);
            assert.ok(!out.ok);
            assert.match(out.refusal, /would make Pulumi.dev.yaml invalid[\s\S]*canary.percent must be a whole number 1..99 \(got 150\)/);
        });
    });
});

const prod = (over: Record<string, unknown>) => ({ testAccess: { cidrs: ["10.0.0.0/8"] }, ...over });
const REPO_TAG = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web";
