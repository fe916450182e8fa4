/**
 * runTrain with its effects in memory (no AWS): notifications name the train, each step edits every
 * member once, and every poll judges every member by its own analysis (a member with its own
 * stricter maxErrorRatePercent fails where the other would pass).
 */
import { strict as assert } from "node:assert";
import { RawConfig, parseConfig } from "../../lib/config";
import * as release from "../../lib/release";
import { ColorSample, Sample } from "../../lib/rollout/analysis";
import { EditRequest, Member, TrainEffects, runTrain } from "../../lib/rollout/loop";

const img = (repo: string, c: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${repo}@sha256:${c.repeat(64)}`;
const STEPS = [
    { kind: "canary", percent: 10, bakeSeconds: 60 } as const,
    { kind: "flip", bakeSeconds: 60 } as const,
    { kind: "finish" } as const,
];

function rawOf(name: string, maxErrorRatePercent: number): RawConfig {
    return {
        service: { name },
        slots: { blue: { image: img(name, "a") }, green: { image: img(name, "b") } },
        traffic: { live: "blue" },
        rollout: { analysis: { intervalSeconds: 30, minRequests: 50, maxErrorRatePercent } },
    };
}

/** `errorsPercent` of the watched colour's requests fail, per member. */
function harness(errorsPercent: Record<string, number>) {
    const raws: Record<string, RawConfig> = { api: rawOf("api", 1), web: rawOf("web", 5) };
    const subjects: string[] = [];
    const edits: string[] = [];
    const lines: string[] = [];
    let t = 0;
    const step = (req: EditRequest) => (cfg: Parameters<typeof release.flip>[0]) =>
        req.kind === "canary"
            ? release.canary(cfg, { percent: req.percent })
            : req.kind === "flip"
              ? release.flip(cfg)
              : req.kind === "finish"
                ? release.finish(cfg)
                : release.rollback(cfg);
    const color = (c: "blue" | "green", requests: number, errors: number): ColorSample => ({
        color: c,
        requests,
        target5xx: errors,
        connectionErrors: 0,
        p99: 0.1,
    });
    const fx: TrainEffects = {
        read: (): Member[] => ["api", "web"].map((name) => ({ name, cfg: parseConfig(raws[name], "dev") })),
        edit(req) {
            for (const name of ["api", "web"]) {
                const outcome = release.runStep(raws[name], "dev", step(req));
                if (!outcome.ok) return outcome;
                raws[name] = outcome.raw;
            }
            edits.push(req.kind);
            return { ok: true, changed: true };
        },
        apply: async () => {},
        sample: async (watches) =>
            watches.map((w): Sample => ({
                watched: color(w.watched, 1000, (1000 * errorsPercent[w.member.name!]) / 100),
                baseline: w.baseline ? color(w.baseline, 9000, 0) : undefined,
                minutes: [],
                alarms: [],
            })),
        notify: async (subject) => void subjects.push(subject),
        progress: (l) => lines.push(l),
        out: (l) => lines.push(l),
        clock: { now: () => t, sleep: async (ms) => void (t += ms) },
        signal: new AbortController().signal,
    };
    return { fx, subjects, edits, raws, lines };
}

describe("runTrain (effects in memory)", () => {
    it("notifications name the train; one edit per step for both members", async () => {
        const h = harness({ api: 0.5, web: 0.5 });
        const outcome = await runTrain(h.fx, { name: "checkout", steps: STEPS });
        assert.deepEqual(outcome, { kind: "done", notes: [] });
        assert.deepEqual(h.subjects, [
            "switchyard dev train checkout: rollout started",
            "switchyard dev train checkout: canary 10",
            "switchyard dev train checkout: flip",
            "switchyard dev train checkout: finish",
            "switchyard dev train checkout: rollout done",
        ]);
        assert.deepEqual(h.edits, ["canary", "flip", "finish"]);
        assert.deepEqual([h.raws.api.traffic, h.raws.web.traffic], [{ live: "green" }, { live: "green" }]);
    });

    it("judges each member by its own analysis: 2 % errors fail api (max 1 %), not web (max 5 %); both roll back", async () => {
        const h = harness({ api: 2, web: 2 });
        const outcome = await runTrain(h.fx, { name: "checkout", steps: STEPS });
        assert.deepEqual(outcome, {
            kind: "rolled-back",
            step: "step 1/3 (canary 10)",
            reason: "api: green error rate 2.00% over the bake (20 target 5xx and 0 connection errors of 1000 requests) is above maxErrorRatePercent 1%",
        });
        assert.deepEqual(h.edits, ["canary", "rollback"]);
        assert.deepEqual(h.subjects.at(-1), "switchyard dev train checkout: rolled back");
        assert.deepEqual([h.raws.api.traffic, h.raws.web.traffic], [{ live: "blue" }, { live: "blue" }]);
    });

    it("passes when only web has 2 % errors (within its own 5 %)", async () => {
        const h = harness({ api: 0, web: 2 });
        const outcome = await runTrain(h.fx, { name: "checkout", steps: STEPS });
        assert.equal(outcome.kind, "done", h.lines.join("\n"));
    });
});
