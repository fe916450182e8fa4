/**
 * The release tool on a stack of two services (issue 16 items 5 and 7): `--service NAME` picks the
 * service (required with several, checked with one), its step's edits go below
 * `switchyard:services.<name>` through the one writer (cli/transaction.ts editService), the whole
 * file is validated with parseStack, and nothing outside the named service changes by a byte.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { parseStack } from "../../lib/config";
import { A, B, C, TWO_IMAGES, TWO_SERVICES, digest, read, run, splitAtApi, stackDir } from "./fixtures";
import { parseStackText, readRaw } from "../../cli/stackFile";

const D = digest("d");

function services(text: string): Record<string, { traffic: unknown; slots: unknown }> {
    return parseDocument(text).toJS().config["switchyard:services"];
}

/** Runs the tool on `dir` and asserts its exit code; returns what it printed. */
async function ok(dir: string, argv: string[]): Promise<string> {
    const r = await run([...argv, "--dir", dir]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    return r.out;
}

describe("release tool on two services (--service)", function () {
    this.timeout(30_000);

    it("walks api through start, canary, flip, rollback and finish; web and everything outside services.api keep every byte", async () => {
        // The fixture: a valid stack, api on /api and /api/* at 100, web (the default) after it.
        const spec = parseStack(readRaw(parseStackText(TWO_SERVICES)), "dev");
        assert.deepEqual([spec.form, spec.edge.default, spec.edge.maxRules, spec.edge.adopt], ["services", "web", 100, undefined]);
        assert.deepEqual(
            spec.services.map((s) => [s.service.name, s.keyPath, s.match]),
            [
                ["api", ["services", "api"], { paths: ["/api", "/api/*"], hosts: [], priority: 100 }],
                ["web", ["services", "web"], { paths: [], hosts: [], priority: 40000 }],
            ],
        );
        const dir = stackDir({ dev: TWO_SERVICES });
        const original = splitAtApi(TWO_SERVICES);
        const steps: [string[], string, unknown, unknown][] = [
            [
                ["start", "--image", D],
                "green (candidate) now holds web@sha256:dddddddddddd (was web@sha256:bbbbbbbbbbbb), warm on the test listener; " +
                    "traffic unchanged (blue live). Next: pulumi up --stack dev, test green on the test listener (port 9000), then canary or flip",
                { live: "blue" },
                { blue: { image: A }, green: { image: D } },
            ],
            [
                ["canary", "--percent", "10"],
                "green now gets 10% of production traffic (was 0%), blue 90%. Next: pulumi up --stack dev, watch green's alarms; " +
                    "then canary again, flip, or rollback",
                { live: "blue", canary: { percent: 10 } },
                { blue: { image: A }, green: { image: D } },
            ],
            [
                ["flip"],
                "green is now live (was blue); blue stays warm for rollback. Next: pulumi up --stack dev, then verify; later finish",
                { live: "green", previous: "blue" },
                { blue: { image: A }, green: { image: D } },
            ],
            [
                ["rollback"],
                "blue is live again (was green); green keeps running for inspection. Next: pulumi up --stack dev, then verify; " +
                    "later finish (scales green down) or start a fixed build",
                { live: "blue" },
                { blue: { image: A }, green: { image: D } },
            ],
            [
                ["finish"],
                "green (web@sha256:dddddddddddd, not live) is scaled down to 0 tasks (idle). Next: pulumi up --stack dev, " +
                    "then start the next release when ready",
                { live: "blue" },
                { blue: { image: A }, green: { image: D, idle: true } },
            ],
        ];
        for (const [[command, ...args], summary, traffic, slots] of steps) {
            const out = await ok(dir, [command, "--stack", "dev", "--service", "api", ...args]);
            assert.equal(out, summary, command);
            const text = read(dir, "dev");
            const now = splitAtApi(text);
            assert.equal(now.before, original.before, `${command}: the file before services.api changed`);
            assert.equal(now.after, original.after, `${command}: web (and what follows) changed`);
            assert.deepEqual(services(text).api.traffic, traffic, command);
            assert.deepEqual(services(text).api.slots, slots, command);
            // api's own comments stay with its keys.
            for (const comment of [
                "# api's block of rules starts at 100",
                "# api listens here",
                "# api's first build",
                "# api serves from blue",
            ])
                assert.ok(now.api.includes(comment), `${command}: lost '${comment}'`);
        }
    });

    it("route add and route remove edit api's routes only; their summaries name --service", async () => {
        const dir = stackDir({ dev: TWO_SERVICES });
        const original = splitAtApi(TWO_SERVICES);
        const out = await ok(dir, ["route", "add", "--stack", "dev", "--service", "api", "--color", "green", "--header", "x-beta=1"]);
        assert.equal(
            out,
            "requests with header x-beta=1 now go to green (route priority 1). Next: pulumi up --stack dev; " +
                "to undo: npm run switchyard -- route remove --stack dev --service api --priority 1",
        );
        const text = read(dir, "dev");
        assert.deepEqual(services(text).api.traffic, {
            live: "blue",
            routes: [{ color: "green", header: { name: "x-beta", values: ["1"] }, priority: 1 }],
        });
        assert.equal(splitAtApi(text).before, original.before);
        assert.equal(splitAtApi(text).after, original.after);
        await ok(dir, ["route", "remove", "--stack", "dev", "--service", "api", "--priority", "1"]);
        assert.equal(read(dir, "dev"), TWO_SERVICES);
    });

    it("route add --priority above a service's block (1..99) is bad input: exit 2, nothing written", async () => {
        const dir = stackDir({ dev: TWO_SERVICES });
        const r = await run(
            ["route", "add", "--stack", "dev", "--service", "api", "--color", "green", "--cookie", "beta=1", "--priority", "100"].concat([
                "--dir",
                dir,
            ]),
        );
        assert.equal(r.code, 2);
        assert.equal(
            r.err,
            "switchyard: --priority 100 is too high for a service of switchyard:services: its routes take priorities 1..99 " +
                "(its rules take 100 priorities from its match.priority, routes first); give --priority 1..99",
        );
        assert.equal(read(dir, "dev"), TWO_SERVICES);
    });

    it("a refusal on api points at the command with --service, and writes nothing (exit 1)", async () => {
        const dir = stackDir({ dev: TWO_SERVICES });
        await ok(dir, ["canary", "--stack", "dev", "--service", "api", "--percent", "20"]);
        const before = fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"));
        const r = await run(["start", "--stack", "dev", "--service", "api", "--image", D, "--dir", dir]);
        assert.equal(r.code, 1);
        assert.equal(
            r.err,
            "switchyard: green is the candidate but still receives production traffic (canary 20%), so the current release is " +
                "not over; end it first, then start again: either undo it with npm run switchyard -- rollback --stack dev --service api " +
                "(removes the canary and routes), or complete it with npm run switchyard -- flip --stack dev --service api",
        );
        assert.ok(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml")).equals(before));
    });

    describe("without --service on a stack of two: exit 2, the services listed, nothing written", () => {
        const cases: [string, string[]][] = [
            ["start", ["start", "--image", D]],
            ["canary", ["canary", "--percent", "10"]],
            ["flip", ["flip"]],
            ["rollback", ["rollback"]],
            ["finish", ["finish"]],
            ["pin", ["pin", "--digest", D]],
            ["route add", ["route", "add", "--color", "green", "--cookie", "beta=1"]],
            ["route remove", ["route", "remove", "--priority", "1"]],
        ];
        for (const [command, argv] of cases) {
            it(command, async () => {
                const dir = stackDir({ dev: TWO_SERVICES });
                const r = await run([...argv, "--stack", "dev", "--dir", dir]);
                assert.equal(r.code, 2);
                assert.equal(r.out, "");
                assert.equal(r.err, `switchyard: stack dev has 2 services (api, web): ${command} needs --service NAME, one of api, web`);
                assert.equal(read(dir, "dev"), TWO_SERVICES);
            });
        }
        it("promote (the target stack has two)", async () => {
            const dir = stackDir({ dev: TWO_IMAGES, prod: TWO_SERVICES });
            const r = await run(["promote", "--from", "dev", "--to", "prod", "--dir", dir]);
            assert.equal(r.code, 2);
            assert.equal(r.err, "switchyard: stack prod has 2 services (api, web): promote needs --service NAME, one of api, web");
            assert.equal(read(dir, "prod"), TWO_SERVICES);
        });
    });

    it("an unknown --service is exit 2 listing the services; nothing written", async () => {
        const dir = stackDir({ dev: TWO_SERVICES });
        const r = await run(["flip", "--stack", "dev", "--service", "db", "--dir", dir]);
        assert.equal(r.code, 2);
        assert.equal(r.err, "switchyard: --service db: stack dev has no service db; its services are api, web");
        assert.equal(read(dir, "dev"), TWO_SERVICES);
    });

    it("one service: --service is optional, and checked when given", async () => {
        const dir = stackDir({ dev: TWO_IMAGES });
        const wrong = await run(["canary", "--stack", "dev", "--service", "api", "--percent", "10", "--dir", dir]);
        assert.equal(wrong.code, 2);
        assert.equal(wrong.err, "switchyard: --service api: stack dev has no service api; its service is web");
        assert.equal(read(dir, "dev"), TWO_IMAGES);
        // The single form's summary says no --service (there is nothing to choose).
        assert.match(await ok(dir, ["canary", "--stack", "dev", "--service", "web", "--percent", "10"]), /^green now gets 10% /);
        assert.deepEqual(parseDocument(read(dir, "dev")).toJS().config["switchyard:traffic"], { live: "blue", canary: { percent: 10 } });
    });

    it("status without --service shows every service; --service one; --json all of them by name", async () => {
        const dir = stackDir({ dev: TWO_SERVICES });
        await ok(dir, ["canary", "--stack", "dev", "--service", "api", "--percent", "10"]);
        const api = [
            "stack dev, service api (development, blue-green)",
            "colour  role       slot                     schema  tasks  traffic  routes  test listener",
            "blue    live       web@sha256:aaaaaaaaaaaa  -       2      90%      -       -",
            "green   candidate  web@sha256:bbbbbbbbbbbb  -       2      10%      -       yes",
            "live: blue   candidate: green   canary: 10%   previous: none",
        ];
        const web = [
            "stack dev, service web (development, blue-green)",
            "colour  role       slot                     schema  tasks  traffic  routes  test listener",
            "blue    live       web@sha256:aaaaaaaaaaaa  -       2      100%     -       -",
            "green   candidate  web@sha256:cccccccccccc  -       2      0%       -       yes",
            "live: blue   candidate: green   canary: none   previous: none",
        ];
        assert.equal(await ok(dir, ["status", "--stack", "dev"]), [...api, "", ...web].join("\n"));
        assert.equal(await ok(dir, ["status", "--stack", "dev", "--service", "web"]), web.join("\n"));
        const all = JSON.parse(await ok(dir, ["status", "--stack", "dev", "--json"]));
        assert.deepEqual(Object.keys(all), ["stack", "services"]);
        assert.equal(all.stack, "dev");
        assert.deepEqual(Object.keys(all.services), ["api", "web"]);
        assert.deepEqual(
            [all.services.api.service, all.services.api.canary, all.services.web.service, all.services.web.colors[1].slot.image],
            ["api", { percent: 10 }, "web", C],
        );
        const one = JSON.parse(await ok(dir, ["status", "--stack", "dev", "--service", "api", "--json"]));
        assert.deepEqual(one, all.services.api);
        const bad = await run(["status", "--stack", "dev", "--service", "db", "--dir", dir]);
        assert.deepEqual([bad.code, bad.err], [2, "switchyard: --service db: stack dev has no service db; its services are api, web"]);
    });

    it("promote --from dev --to prod --service api copies api's live digest into prod's api candidate only", async () => {
        const dev = TWO_SERVICES.replace(`image: ${A}   # api's first build`, `image: ${D}   # api's first build`);
        const dir = stackDir({ dev, prod: TWO_SERVICES });
        const out = await ok(dir, ["promote", "--from", "dev", "--to", "prod", "--service", "api"]);
        assert.equal(
            out,
            "from dev (live blue): green (candidate) now holds web@sha256:dddddddddddd (was web@sha256:bbbbbbbbbbbb), warm on the " +
                "test listener; traffic unchanged (blue live). Next: pulumi up --stack prod, test green on the test listener (port 9000), " +
                "then canary or flip",
        );
        const prod = read(dir, "prod");
        assert.deepEqual(services(prod).api.slots, { blue: { image: A }, green: { image: D } });
        assert.equal(splitAtApi(prod).before, splitAtApi(TWO_SERVICES).before);
        assert.equal(splitAtApi(prod).after, splitAtApi(TWO_SERVICES).after);
        assert.equal(read(dir, "dev"), dev);
    });

    it("flip of api's build slot reads the digest from `pulumi stack output services` (services.api.images.green)", async function () {
        if (process.platform === "win32") this.skip();
        // program.ts/index.ts: the services form exports each service's outputs, images included, under `services`.
        const file = TWO_SERVICES.replace(`          image: ${B}\n`, "          build: ./api\n");
        const dir = stackDir({ dev: file });
        const bin = fs.mkdtempSync(path.join(dir, "bin-"));
        const output = JSON.stringify({ api: { images: { blue: A, green: D } }, web: { images: { blue: A, green: C } } });
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho "$@" > "${bin}/args"\necho '${output}'\n`, { mode: 0o755 });
        const r = await run(["flip", "--stack", "dev", "--service", "api", "--dir", dir], {
            PATH: `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin`,
        });
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /^green is now live \(was blue\), pinned to web@sha256:dddddddddddd;/);
        assert.equal(fs.readFileSync(path.join(bin, "args"), "utf8").trim(), "stack output services --json --stack dev");
        assert.deepEqual(services(read(dir, "dev")).api.slots, { blue: { image: A }, green: { image: D } });
        assert.equal(splitAtApi(read(dir, "dev")).after, splitAtApi(file).after);
    });
});
