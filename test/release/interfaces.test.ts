/**
 * `start --provides / --requires`: a new build says which interface it serves and which versions of
 * other services' it works with (invariant 13, lib/coexistence.ts); the guard then judges it before
 * the build gets traffic.
 */
import { strict as assert } from "node:assert";
import { parse } from "yaml";
import { TRAIN, digest, read, run, stackDir } from "./fixtures";

const D = digest("d");

const slot = (dir: string, service: string, color: string) =>
    parse(read(dir, "dev")).config["switchyard:services"][service].slots[color] as Record<string, unknown>;

describe("start --provides / --requires", () => {
    it("records the new build's declarations in its slot, replacing the slot's", async () => {
        const dir = stackDir({ dev: TRAIN });
        const r = await run([
            "start",
            "--stack",
            "dev",
            "--dir",
            dir,
            "--service",
            "web",
            "--image",
            D,
            "--requires",
            "api=3",
            "--provides",
            "7",
        ]);
        assert.equal(r.code, 0, r.err);
        assert.deepEqual(slot(dir, "web", "green"), { image: D, requires: { api: [3] }, provides: 7 });
    });

    it("keeps the slot's declarations when none are given (as --schema)", async () => {
        const dir = stackDir({ dev: TRAIN });
        assert.equal((await run(["start", "--stack", "dev", "--dir", dir, "--service", "web", "--image", D])).code, 0);
        assert.deepEqual(slot(dir, "web", "green"), { image: D, requires: { api: [2, 3] } });
    });

    it("lets the guard refuse traffic to a build that needs an interface nobody with traffic serves (exit 2)", async () => {
        const dir = stackDir({ dev: TRAIN });
        assert.equal(
            (await run(["start", "--stack", "dev", "--dir", dir, "--service", "web", "--image", D, "--requires", "api=3"])).code,
            0,
        );
        const before = read(dir, "dev");
        const canary = await run(["canary", "--stack", "dev", "--dir", dir, "--service", "web", "--percent", "10"]);
        assert.equal(canary.code, 2, canary.out + canary.err);
        assert.match(
            canary.err,
            /web green \(web@sha256:d{12}, canary 10%\) requires api \[3\], but api blue .* provides 2 and both have traffic; move api first/,
        );
        assert.equal(read(dir, "dev"), before);
    });

    for (const [what, args, message] of [
        [
            "a service named twice",
            ["--requires", "api=2", "--requires", "api=3"],
            /^error: --requires names api twice; give each service once/,
        ],
        ["no service", ["--requires", "=3"], /^error: --requires =3: use <service>=<versions>/],
        ["bad versions", ["--requires", "api=two"], /^error: --requires api=two: use versions such as 2,3/],
        ["a provides that is no version", ["--provides", "v2"], /error: option '--provides <version>' argument 'v2' is invalid/],
    ] as const) {
        it(`is a usage error (exit 2, nothing written) for ${what}`, async () => {
            const dir = stackDir({ dev: TRAIN });
            const r = await run(["start", "--stack", "dev", "--dir", dir, "--service", "web", "--image", D, ...args]);
            assert.equal(r.code, 2);
            assert.match(r.err, message);
            assert.equal(read(dir, "dev"), TRAIN);
        });
    }
});
