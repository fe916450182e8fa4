import { strict as assert } from "node:assert";
import { parseConfig } from "../../lib/config";
import { ConfigError } from "../../lib/problems";
import { DEFAULT_ROLLOUT } from "../../lib/parse/rollout";

const DIGEST = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${"a".repeat(64)}`;
const BASE = {
    service: { name: "web" },
    slots: { blue: { image: DIGEST } },
    traffic: { live: "blue" },
};

function problems(rollout: unknown, extra: Record<string, unknown> = {}): readonly string[] {
    try {
        parseConfig({ ...BASE, ...extra, rollout }, "dev");
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    assert.fail("expected a ConfigError");
}

describe("switchyard:rollout config (lib/parse/rollout.ts)", () => {
    it("defaults to canary 10 for 300 s, flip with a 300 s bake, finish, and the DESIGN analysis", () => {
        const cfg = parseConfig(BASE, "dev");
        assert.deepEqual(cfg.rollout, DEFAULT_ROLLOUT);
        assert.deepEqual(cfg.rollout.steps, [
            { kind: "canary", percent: 10, bakeSeconds: 300 },
            { kind: "flip", bakeSeconds: 300 },
            { kind: "finish" },
        ]);
        assert.deepEqual(cfg.rollout.analysis, {
            intervalSeconds: 30,
            alarms: true,
            minRequests: 50,
            maxErrorRatePercent: 1,
            maxErrorRateRatio: 2,
            maxP99LatencyRatio: 1.5,
        });
    });

    it("parses the DESIGN example", () => {
        const cfg = parseConfig(
            {
                ...BASE,
                rollout: {
                    steps: [
                        { canary: 10, bakeSeconds: 300 },
                        { canary: 50, bakeSeconds: 300 },
                        { pause: true },
                        { flip: true, bakeSeconds: 600 },
                        { finish: true },
                    ],
                    analysis: { intervalSeconds: 15, alarms: false, minRequests: 100, maxErrorRatePercent: 0.5, maxP99LatencyRatio: 2 },
                },
            },
            "dev",
        );
        assert.deepEqual(cfg.rollout, {
            steps: [
                { kind: "canary", percent: 10, bakeSeconds: 300 },
                { kind: "canary", percent: 50, bakeSeconds: 300 },
                { kind: "pause" },
                { kind: "flip", bakeSeconds: 600 },
                { kind: "finish" },
            ],
            analysis: {
                intervalSeconds: 15,
                alarms: false,
                minRequests: 100,
                maxErrorRatePercent: 0.5,
                maxErrorRateRatio: 2,
                maxP99LatencyRatio: 2,
            },
        });
    });

    it("reports every problem at once, each named by its key", () => {
        assert.deepEqual(
            problems({
                steps: [
                    { canary: 50, flip: true },
                    { canary: 20, bakeSeconds: 60 },
                    { canary: 30, bakeSeconds: 0 },
                    { finish: true },
                    { flip: true, wait: 3 },
                    { pause: false, bakeSeconds: 5 },
                ],
                analysis: { intervalSeconds: 0, maxErrorRatePercent: 150, maxErrorRateRatio: "x", sample: 1 },
                extra: true,
            }),
            [
                "switchyard:rollout.extra is not a known key; use one of: steps, analysis",
                "switchyard:rollout.steps[0] has 2 actions (canary and flip); give each step exactly one, as separate steps",
                "switchyard:rollout.steps[2].bakeSeconds must be at least 1 on a canary: a canary nobody watches proves nothing (got 0)",
                "switchyard:rollout.steps[3] (finish) comes before any flip: finish scales down the old colour, which exists only after the flip",
                "switchyard:rollout.steps[4].wait is not a known key; use one of: canary, pause, flip, finish, bakeSeconds",
                "switchyard:rollout.steps[4] (flip) comes after finish (switchyard:rollout.steps[3]); finish must be the last step",
                "switchyard:rollout.steps[5] (pause) comes after finish (switchyard:rollout.steps[3]); finish must be the last step",
                "switchyard:rollout.steps[5].bakeSeconds does not apply to pause: a pause waits for the next run; remove it",
                "switchyard:rollout.steps[5].pause must be true (to skip the step, remove it)",
                "switchyard:rollout.analysis.sample is not a known key; use one of: intervalSeconds, alarms, minRequests, maxErrorRatePercent, maxErrorRateRatio, maxP99LatencyRatio",
                "switchyard:rollout.analysis.intervalSeconds must be a whole number 1..3600 (got 0)",
                "switchyard:rollout.analysis.maxErrorRatePercent must be a number 0..100 (got 150)",
                "switchyard:rollout.analysis.maxErrorRateRatio must be a number 1..1000 (got 'x')",
            ],
        );
    });

    it("refuses canary percents that do not increase, a canary after the flip, and a missing or second flip", () => {
        assert.deepEqual(
            problems({
                steps: [{ canary: 50 }, { canary: 50 }, { flip: true }, { canary: 90 }, { flip: true }],
            }),
            [
                "switchyard:rollout.steps[1].canary 50 must be above 50 (switchyard:rollout.steps[0]): canary percents only increase",
                "switchyard:rollout.steps[3] (canary 90) comes after the flip (switchyard:rollout.steps[2]); canaries go before the flip",
                "switchyard:rollout.steps[4] is a second flip (the first is switchyard:rollout.steps[2]); a rollout flips once",
            ],
        );
        assert.deepEqual(problems({ steps: [{ canary: 10 }, { pause: true }] }), [
            "switchyard:rollout.steps needs one step flip: true (the candidate becomes live), after the canaries",
        ]);
        assert.deepEqual(problems({ steps: [] }), [
            "switchyard:rollout.steps must be a list of at least one step, e.g. [{canary: 10, bakeSeconds: 300}, {flip: true}] (got [])",
        ]);
        assert.deepEqual(problems({ steps: [{ canary: 100 }, { flip: true }] }), [
            "switchyard:rollout.steps[0].canary must be a whole number 1..99 (got 100)",
        ]);
    });

    it("refuses switchyard:rollout with the rolling strategy", () => {
        assert.deepEqual(problems({ steps: [{ flip: true }] }, { strategy: "rolling" }), [
            "switchyard:rollout is a blue-green key (it walks a candidate colour to live) and cannot be used with switchyard:strategy rolling; remove it",
        ]);
    });
});
