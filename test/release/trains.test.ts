/**
 * `--train NAME` (issue 17): every member of a train edited on one read of the stack file, in one
 * write under its lock, the whole edited file validated once by parseStack (the co-existence guard,
 * invariant 13, lib/coexistence.ts, judges the train's final state); all or nothing.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { A, B, C, TRAIN, appContext, TWO_SERVICES, read, run, spawnCli, stackDir } from "./fixtures";

type Traffic = { live: string; canary?: { percent: number }; previous?: string };

function services(text: string): Record<string, { traffic: Traffic; slots: Record<string, Record<string, unknown>> }> {
    return parseDocument(text).toJS().config["switchyard:services"];
}

function traffic(text: string): { api: Traffic; web: Traffic } {
    const s = services(text);
    return { api: s.api.traffic, web: s.web.traffic };
}

const NEXT = "Next: pulumi up --stack dev, watch green's alarms; then canary again, flip, or rollback";
const FLIPPED = "green is now live (was blue); blue stays warm for rollback. Next: pulumi up --stack dev, then verify; later finish";

async function train(dir: string, ...argv: string[]) {
    return run([...argv, "--stack", "dev", "--dir", dir]);
}

describe("release tool: --train (every member in one write)", () => {
    it("canary --train checkout: both members get the canary in one write, api first (the train's order, not the file's)", async () => {
        const dir = stackDir({ dev: TRAIN });
        const r = await train(dir, "canary", "--train", "checkout", "--percent", "10");
        assert.equal(r.code, 0, r.err);
        assert.equal(
            r.out,
            [
                "train checkout:",
                `  api: green now gets 10% of production traffic (was 0%), blue 90%. ${NEXT}`,
                `  web: green now gets 10% of production traffic (was 0%), blue 90%. ${NEXT}`,
            ].join("\n"),
        );
        assert.deepEqual(traffic(read(dir, "dev")), {
            api: { live: "blue", canary: { percent: 10 } },
            web: { live: "blue", canary: { percent: 10 } },
        });
        // Only the two traffic blocks changed: the file otherwise keeps its bytes.
        const expected = TRAIN.replace(/(\n {6}traffic:\n {8}live: blue\n)/g, "$1        canary:\n          percent: 10\n");
        assert.equal(read(dir, "dev"), expected);

        const again = await train(dir, "canary", "--train", "checkout", "--percent", "10");
        assert.equal(again.code, 0);
        assert.equal(
            again.out,
            [
                `already so: ${path.join(dir, "Pulumi.dev.yaml")} unchanged; train checkout:`,
                "  api: already so: green already gets 10% of production traffic, blue 90%",
                "  web: already so: green already gets 10% of production traffic, blue 90%",
            ].join("\n"),
        );
        assert.equal(read(dir, "dev"), expected);
    });

    it("flip, then rollback, then flip and finish --train: each moves both members", async () => {
        const dir = stackDir({ dev: TRAIN });
        const flip = await train(dir, "flip", "--train", "checkout");
        assert.equal(flip.code, 0, flip.err);
        assert.equal(flip.out, `train checkout:\n  api: ${FLIPPED}\n  web: ${FLIPPED}`);
        const both = (t: Traffic) => ({ api: t, web: t });
        assert.deepEqual(traffic(read(dir, "dev")), both({ live: "green", previous: "blue" }));

        const rollback = await train(dir, "rollback", "--train", "checkout");
        assert.equal(rollback.code, 0, rollback.err);
        assert.match(
            rollback.out,
            /^train checkout:\n {2}api: blue is live again \(was green\).*\n {2}web: blue is live again \(was green\)/,
        );
        assert.deepEqual(traffic(read(dir, "dev")), both({ live: "blue" }));

        assert.equal((await train(dir, "flip", "--train", "checkout")).code, 0);
        const finish = await train(dir, "finish", "--train", "checkout");
        assert.equal(finish.code, 0, finish.err);
        assert.match(finish.out, /^train checkout:\n {2}api: blue \(.*\) is scaled down to 0 tasks \(idle\).*\n {2}web: blue \(/);
        const after = services(read(dir, "dev"));
        assert.deepEqual(traffic(read(dir, "dev")), both({ live: "green" }));
        assert.deepEqual([after.api.slots.blue.idle, after.web.slots.blue.idle], [true, true]);
    });

    it("a member's refusal refuses the train, naming the member; nothing is written (exit 1)", async () => {
        // api was flipped by hand (blue kept warm); web was not: a canary suits web, not api.
        const text = TRAIN.replace(
            "        live: blue\n  switchyard:trains",
            "        live: green\n        previous: blue\n  switchyard:trains",
        );
        const dir = stackDir({ dev: text });
        const r = await train(dir, "canary", "--train", "checkout", "--percent", "10");
        assert.equal(r.code, 1);
        assert.equal(
            r.err,
            "switchyard: train checkout: refused, so nothing was written:\n" +
                "  - api: blue is the colour that was live before the last flip, kept warm for rollback, not a new release; " +
                "use rollback to return to it, or start a new release",
        );
        assert.equal(r.out, "");
        assert.equal(read(dir, "dev"), text);
    });

    it("the guard judges the train's final state: web's build needing only api v3 while api v2 is live is refused (exit 2), nothing written", async () => {
        const text = TRAIN.replace("requires: { api: [2, 3] }   # web's next build", "requires: { api: [3] }     # web's next build");
        const dir = stackDir({ dev: text });
        const r = await train(dir, "canary", "--train", "checkout", "--percent", "10");
        assert.equal(r.code, 2);
        assert.equal(
            r.err,
            `switchyard: the change would make ${path.join(dir, "Pulumi.dev.yaml")} invalid, so nothing was written.\n` +
                "  - switchyard:services.web.slots.green: web green (web@sha256:cccccccccccc, canary 10%) requires api [3], " +
                "but api blue (web@sha256:aaaaaaaaaaaa, live) provides 2 and both have traffic; move api first: its v3 must have " +
                "traffic before web's build that requires [3] gets any, and its v2 must have none by then (or move web's traffic back)",
        );
        assert.equal(read(dir, "dev"), text);
    });

    it("start --train: --image <service>=<ref> once per member, both candidate slots in one write; a missing member is exit 2", async () => {
        const dir = stackDir({ dev: TRAIN });
        const missing = await train(dir, "start", "--train", "checkout", "--image", `api=${C}`);
        assert.equal(missing.code, 2);
        assert.equal(
            missing.err,
            "switchyard: start --train checkout needs a new build for every member (api, web); none for web: " +
                "give --image <service>=<ref> or --build <service>=<context> for each",
        );
        const stranger = await train(dir, "start", "--train", "checkout", "--image", `api=${C}`, "--image", `db=${C}`);
        assert.equal(stranger.code, 2);
        assert.equal(stranger.err, `switchyard: --image db=${C}: db is not a member of train checkout; its members are api, web`);
        assert.equal(read(dir, "dev"), TRAIN);

        const r = await train(dir, "start", "--train", "checkout", "--image", `web=${B}`, "--image", `api=${C}`);
        assert.equal(r.code, 0, r.err);
        assert.match(
            r.out,
            /^train checkout:\n {2}api: green \(candidate\) now holds web@sha256:cccccccccccc .*\n {2}web: green \(candidate\) now holds web@sha256:bbbbbbbbbbbb /,
        );
        const after = services(read(dir, "dev"));
        assert.deepEqual([after.api.slots.green.image, after.web.slots.green.image], [C, B]);
        assert.deepEqual([after.api.slots.blue.image, after.web.slots.blue.image], [A, A]);

        // A mix: api an image, web a build of ./app (pulumi up builds it); checked as start --build checks one.
        const mixed = stackDir({ dev: TRAIN });
        const noApp = await train(mixed, "start", "--train", "checkout", "--image", `api=${C}`, "--build", "web=./app");
        assert.equal(noApp.code, 2);
        assert.match(noApp.err, /^switchyard: --build web=\.\/app: /);
        appContext(mixed);
        const built = await train(mixed, "start", "--train", "checkout", "--image", `api=${C}`, "--build", "web=./app");
        assert.equal(built.code, 0, built.err);
        const slots = services(read(mixed, "dev"));
        assert.deepEqual([slots.api.slots.green.image, slots.web.slots.green.build], [C, "./app"]);
    });

    it("an unknown train lists the trains; --train with --service, --digest or --schema, and a stack without trains, are exit 2; nothing written", async () => {
        const dir = stackDir({ dev: TRAIN, two: TWO_SERVICES });
        const unknown = await train(dir, "flip", "--train", "cart");
        assert.deepEqual([unknown.code, unknown.err], [2, "switchyard: --train cart: stack dev has no train cart; its train is checkout"]);
        const both = await train(dir, "flip", "--train", "checkout", "--service", "api");
        assert.equal(both.code, 2);
        assert.match(both.err, /^error: option '--train <name>' cannot be used with option '--service <name>'/);
        const none = await run(["finish", "--train", "checkout", "--stack", "two", "--dir", dir]);
        assert.deepEqual(
            [none.code, none.err],
            [2, "switchyard: --train checkout: stack two has no trains (switchyard:trains); name one service with --service instead"],
        );
        // --digest and --schema name one build; a train has one per member.
        const digest = await train(dir, "flip", "--train", "checkout", "--digest", C);
        assert.equal(digest.code, 2);
        assert.match(digest.err, /^switchyard: --digest names one build and --train checkout has several: /);
        const schema = await train(dir, "start", "--train", "checkout", "--image", `api=${C}`, "--image", `web=${B}`, "--schema", "3");
        assert.equal(schema.code, 2);
        assert.match(schema.err, /^error: --schema is for one service; with --train each member's slot keeps its own/);
        // Without --train, --image is still given once.
        const twice = await train(dir, "start", "--service", "api", "--image", B, "--image", C);
        assert.equal(twice.code, 2);
        assert.match(twice.err, /^error: option '--image <ref>' is given 2 times \(--image .*\); give it once \(or use --train\)/);
        assert.equal(read(dir, "dev"), TRAIN);
        assert.equal(read(dir, "two"), TWO_SERVICES);
    });

    it("status --train: each member, in the train's order (--json: the same order), read only", async () => {
        const dir = stackDir({ dev: TRAIN });
        const r = await train(dir, "status", "--train", "checkout");
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(
            r.out.split("\n").filter((l) => l.startsWith("stack ")),
            ["stack dev, service api (development, blue-green)", "stack dev, service web (development, blue-green)"],
        );
        const json = await train(dir, "status", "--train", "checkout", "--json");
        const parsed = JSON.parse(json.out);
        assert.equal(parsed.train, "checkout");
        assert.deepEqual(Object.keys(parsed.services), ["api", "web"]);
        assert.deepEqual([parsed.services.api.live, parsed.services.web.candidate], ["blue", "green"]);
        assert.equal(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"), TRAIN);
    });
});

describe("concurrent train and service edits of one stack file (two processes)", function () {
    this.timeout(60_000);
    const ROUNDS = 4;
    before(async () => assert.equal((await spawnCli(["--version"])).code, 0)); // compiles once, before the races

    it(`canary --train checkout 10 and canary --service api 20 at once, ${ROUNDS} times: neither write is lost`, async () => {
        for (let i = 0; i < ROUNDS; i++) {
            const dir = stackDir({ dev: TRAIN });
            const [t, s] = await Promise.all([
                spawnCli(["canary", "--stack", "dev", "--train", "checkout", "--percent", "10", "--dir", dir]),
                spawnCli(["canary", "--stack", "dev", "--service", "api", "--percent", "20", "--dir", dir]),
            ]);
            assert.equal(t.code, 0, t.err);
            assert.equal(s.code, 0, s.err);
            // Serial orders: the train first (the service's canary then replaces api's 10%), or the service first.
            const trainFirst = /\(was 10%\)/.test(s.out);
            if (trainFirst) assert.match(t.out, /api: green now gets 10% of production traffic \(was 0%\)/);
            else assert.match(t.out, /api: green now gets 10% of production traffic \(was 20%\)/);
            assert.match(t.out, /web: green now gets 10% of production traffic \(was 0%\)/);
            assert.deepEqual(traffic(read(dir, "dev")), {
                api: { live: "blue", canary: { percent: trainFirst ? 20 : 10 } },
                web: { live: "blue", canary: { percent: 10 } },
            });
        }
    });
});
