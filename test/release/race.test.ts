/**
 * Invariant 10: two edits of one stack file at once never lose one. Two real processes race on
 * one file, many times; every command that exited 0 must have its effect in the final file, and
 * what each printed must match some serial order of the two.
 */
import { strict as assert } from "node:assert";
import { parseDocument } from "yaml";
import { ProcessRun, TWO_IMAGES as DEV, read, spawnCli, stackDir } from "./fixtures";

const ROUNDS = 8;

function traffic(text: string): { live: string; canary?: { percent: number }; previous?: string } {
    return parseDocument(text).toJS().config["switchyard:traffic"];
}

async function race(a: string[], b: string[]): Promise<{ ra: ProcessRun; rb: ProcessRun; text: string }> {
    const dir = stackDir({ dev: DEV });
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
});
