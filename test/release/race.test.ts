/**
 * Invariant 10: two edits of one stack file at once never lose one. Two real processes race on
 * one file, many times; every command that exited 0 must have its effect in the final file, and
 * what each printed must match some serial order of the two.
 */
import { strict as assert } from "node:assert";
import { parseDocument } from "yaml";
import { ProcessRun, TWO_IMAGES as DEV, TWO_SERVICES, read, spawnCli, splitAtApi, stackDir } from "./fixtures";

const ROUNDS = 8;

function traffic(text: string): { live: string; canary?: { percent: number }; previous?: string } {
    return parseDocument(text).toJS().config["switchyard:traffic"];
}

function serviceTraffic(text: string, service: string): { live: string; canary?: { percent: number } } {
    return parseDocument(text).toJS().config["switchyard:services"][service].traffic;
}

async function race(a: string[], b: string[], file = DEV): Promise<{ ra: ProcessRun; rb: ProcessRun; text: string }> {
    const dir = stackDir({ dev: file });
    const [ra, rb] = await Promise.all([spawnCli([...a, "--dir", dir]), spawnCli([...b, "--dir", dir])]);
    return { ra, rb, text: read(dir, "dev") };
}

describe("concurrent edits of one stack file (two processes)", function () {
    this.timeout(60_000);
    before(async () => assert.equal((await spawnCli(["--version"])).code, 0)); // compiles once, before the races

    it(`canary 10 and canary 20 at once, ${ROUNDS} times: both apply, in some order, and each reports what it replaced`, async () => {
        for (let i = 0; i < ROUNDS / 2; i++) {
            const { ra, rb, text } = await race(
                ["canary", "--stack", "dev", "--percent", "10"],
                ["canary", "--stack", "dev", "--percent", "20"],
            );
            assert.equal(ra.code, 0, ra.err);
            assert.equal(rb.code, 0, rb.err);
            const tenFirst = /\(was 0%\)/.test(ra.out);
            // The second one ran on the first one's result: it saw (and replaced) its percent.
            assert.match(tenFirst ? rb.out : ra.out, tenFirst ? /^green now gets 20% .*\(was 10%\)/ : /^green now gets 10% .*\(was 20%\)/);
            assert.match(tenFirst ? ra.out : rb.out, /\(was 0%\)/);
            assert.deepEqual(traffic(text), { live: "blue", canary: { percent: tenFirst ? 20 : 10 } });
        }
    });

    it(`flip and canary 50 at once, ${ROUNDS} times: flip always lands; a canary reported done came before it`, async () => {
        for (let i = 0; i < ROUNDS / 2; i++) {
            const { ra: flip, rb: canary, text } = await race(["flip", "--stack", "dev"], ["canary", "--stack", "dev", "--percent", "50"]);
            assert.equal(flip.code, 0, flip.err);
            assert.match(flip.out, /^green is now live \(was blue\)/);
            // Serially, canary after flip is refused (blue is the rollback target); canary before flip is
            // then cleared by it. Either way the file holds exactly what flip wrote.
            if (canary.code !== 0) {
                assert.equal(canary.code, 1);
                assert.match(canary.err, /^switchyard: blue is the colour that was live before the last flip/);
            } else {
                assert.match(canary.out, /^green now gets 50% of production traffic \(was 0%\)/);
            }
            assert.deepEqual(traffic(text), { live: "green", previous: "blue" });
        }
    });

    describe("on a stack file of two services (--service)", () => {
        it(`canary 10 of api and canary 20 of web at once, ${ROUNDS / 2} times: both land, each in its own service`, async () => {
            for (let i = 0; i < ROUNDS / 2; i++) {
                const { ra, rb, text } = await race(
                    ["canary", "--stack", "dev", "--service", "api", "--percent", "10"],
                    ["canary", "--stack", "dev", "--service", "web", "--percent", "20"],
                    TWO_SERVICES,
                );
                assert.equal(ra.code, 0, ra.err);
                assert.equal(rb.code, 0, rb.err);
                // Neither saw the other's canary: each decided on its own service's keys.
                assert.match(ra.out, /^green now gets 10% of production traffic \(was 0%\), blue 90%/);
                assert.match(rb.out, /^green now gets 20% of production traffic \(was 0%\), blue 80%/);
                assert.deepEqual(serviceTraffic(text, "api"), { live: "blue", canary: { percent: 10 } });
                assert.deepEqual(serviceTraffic(text, "web"), { live: "blue", canary: { percent: 20 } });
                assert.equal(splitAtApi(text).before, splitAtApi(TWO_SERVICES).before);
            }
        });

        it(`canary 10 and canary 20 of api at once, ${ROUNDS / 2} times: both apply in some order; web is untouched`, async () => {
            for (let i = 0; i < ROUNDS / 2; i++) {
                const { ra, rb, text } = await race(
                    ["canary", "--stack", "dev", "--service", "api", "--percent", "10"],
                    ["canary", "--stack", "dev", "--service", "api", "--percent", "20"],
                    TWO_SERVICES,
                );
                assert.equal(ra.code, 0, ra.err);
                assert.equal(rb.code, 0, rb.err);
                const tenFirst = /\(was 0%\)/.test(ra.out);
                assert.match(
                    tenFirst ? rb.out : ra.out,
                    tenFirst ? /^green now gets 20% .*\(was 10%\)/ : /^green now gets 10% .*\(was 20%\)/,
                );
                assert.deepEqual(serviceTraffic(text, "api"), { live: "blue", canary: { percent: tenFirst ? 20 : 10 } });
                assert.equal(splitAtApi(text).after, splitAtApi(TWO_SERVICES).after);
            }
        });
    });
});
