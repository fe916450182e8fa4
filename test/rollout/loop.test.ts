/**
 * The rollout loop (lib/rollout/loop.ts) with in-memory effects: the stack file is a raw config
 * edited by the same pure release steps the CLI commands run, the apply and the analysis follow
 * a script, and the clock is virtual. Property: for any sequence of analysis and apply results,
 * the final stack file is the finished release, the last safe routing, or (paused) exactly the
 * steps before the pause; never anything in between. A rollback comes at the poll that failed.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { RawConfig, SwitchyardConfig, parseConfig } from "../../lib/config";
import * as release from "../../lib/release";
import { Sample } from "../../lib/rollout/analysis";
import { rolloutExitCode as exitCode } from "../../cli/commands/rollout";
import { ApplyError } from "../../lib/rollout/apply";
import { EditRequest, Outcome, RolloutEffects, RolloutOptions, runRollout } from "../../lib/rollout/loop";
import { rolloutPosition } from "../../lib/rollout/position";

const img = (c: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${c.repeat(64)}`;

/** What a poll sees; "person-rolls-back": a person runs `rollback` on the stack file just after this (healthy) poll. */
type Poll = "healthy" | "alarm" | "errors" | "slow" | "quiet" | "unreadable" | "person-rolls-back";

interface Run {
    outcome: Outcome;
    raw: RawConfig;
    lines: string[];
    applies: string[];
    edits: { request: string; at: number }[];
    failedPollAt?: number;
}

const STEP_LISTS: Record<string, unknown[]> = {
    default: [{ canary: 10, bakeSeconds: 300 }, { flip: true, bakeSeconds: 300 }, { finish: true }],
    design: [
        { canary: 10, bakeSeconds: 300 },
        { canary: 50, bakeSeconds: 300 },
        { pause: true },
        { flip: true, bakeSeconds: 600 },
        { finish: true },
    ],
    noFinish: [{ pause: true }, { canary: 5, bakeSeconds: 60 }, { canary: 25, bakeSeconds: 60 }, { flip: true, bakeSeconds: 0 }],
};

function startRaw(steps: unknown[], at: "start" | "canary" | "flipped"): RawConfig {
    const traffic =
        at === "flipped"
            ? { live: "green", previous: "blue" }
            : at === "canary"
              ? { live: "blue", canary: { percent: 10 } }
              : { live: "blue" };
    return {
        service: { name: "web" },
        slots: { blue: { image: img("a") }, green: { image: img("b") } },
        traffic,
        rollout: { steps, analysis: { intervalSeconds: 30, minRequests: 50 } },
    };
}

function sampleFor(poll: Poll, watched: "blue" | "green", baseline: "blue" | "green" | undefined): Sample {
    if (poll === "unreadable") throw new Error("ThrottlingException: Rate exceeded");
    const base = baseline ? { color: baseline, requests: 9000, target5xx: 9, connectionErrors: 0, p99: 0.1 } : undefined;
    const mine = {
        color: watched,
        requests: poll === "quiet" ? 3 : 1000,
        target5xx: poll === "errors" ? 50 : 0,
        connectionErrors: 0,
        p99: poll === "slow" ? 1.2 : 0.1,
    };
    return {
        watched: mine,
        baseline: base,
        minutes: [],
        alarms: [{ name: `switchyard-dev-web-${watched}-5xx`, state: poll === "alarm" ? "ALARM" : "OK", reason: "Threshold Crossed" }],
    };
}

/** A scripted apply: true succeeds, false fails, "concurrent" is refused by another update in progress. */
type ApplyScript = boolean | "concurrent";

/** Runs the loop on an in-memory stack file with scripted applies (true = ok) and polls. */
async function run(
    raw0: RawConfig,
    applies: ApplyScript[],
    polls: Poll[],
    readsBeforeBreaking = Infinity,
    options: RolloutOptions = {},
): Promise<Run> {
    let raw = raw0;
    let t = 0;
    let reads = 0;
    const r: Omit<Run, "outcome" | "raw"> = { lines: [], applies: [], edits: [] };
    const read = (): SwitchyardConfig => {
        if (++reads > readsBeforeBreaking) throw new Error("Pulumi.dev.yaml is not valid YAML");
        return parseConfig(raw, "dev");
    };
    const step = (req: EditRequest) => (cfg: SwitchyardConfig) => {
        switch (req.kind) {
            case "canary":
                return release.canary(cfg, { percent: req.percent });
            case "flip":
                return release.flip(cfg);
            case "finish":
                return release.finish(cfg);
            case "rollback":
                return release.rollback(cfg);
        }
    };
    const fx: RolloutEffects = {
        read,
        edit(req) {
            const outcome = release.runStep(raw, "dev", step(req));
            if (!outcome.ok) return outcome;
            const changed = JSON.stringify(outcome.raw) !== JSON.stringify(raw);
            raw = outcome.raw;
            r.edits.push({ request: req.kind, at: t });
            return { ok: true, changed };
        },
        async apply(label, changed) {
            r.applies.push(changed ? label : `${label} (again)`);
            const result = applies.shift();
            if (result === false) throw new ApplyError("pulumi up exited 255", "failed");
            if (result === "concurrent") {
                throw new ApplyError(
                    "pulumi up --stack dev was refused: another update is in progress (error: [409] Conflict)",
                    "concurrent",
                );
            }
        },
        async sample(watched, baseline) {
            const poll = polls.shift() ?? "healthy";
            if (poll === "person-rolls-back") {
                const byHand = release.runStep(raw, "dev", (cfg) => release.rollback(cfg));
                if (byHand.ok) raw = byHand.raw;
                return sampleFor("healthy", watched, baseline);
            }
            const s = sampleFor(poll, watched, baseline);
            if (poll === "alarm" || poll === "errors" || (poll === "slow" && baseline)) r.failedPollAt ??= t;
            return s;
        },
        async notify() {},
        progress: (line) => r.lines.push(line),
        out: (line) => r.lines.push(line),
        clock: {
            now: () => t,
            sleep: async (ms) => {
                t += ms;
            },
        },
        signal: new AbortController().signal,
    };
    const outcome = await runRollout(fx, options);
    return { ...r, outcome, raw };
}

const traffic = (raw: RawConfig) => parseConfig(raw, "dev").traffic;
const slots = (raw: RawConfig) => parseConfig(raw, "dev").slots;

describe("rollout loop (lib/rollout/loop.ts, in memory)", () => {
    it("walks the default steps: canary 10, flip, finish, with a poll every interval of each bake", async () => {
        const r = await run(startRaw(STEP_LISTS.default, "start"), [], []);
        assert.deepEqual(r.outcome, { kind: "done", notes: [] });
        assert.deepEqual(r.applies, ["canary 10", "flip", "finish"]);
        assert.deepEqual(traffic(r.raw), { live: "green", canary: undefined, routes: [], previous: undefined });
        assert.equal(slots(r.raw).blue?.idle, true);
        // 300 s at 30 s: polls at 0, 30, ..., 300 for each of the two bakes.
        assert.equal(r.lines.filter((l) => l.startsWith("step 1/3 (canary 10)")).length, 11);
        assert.equal(r.lines.filter((l) => l.startsWith("step 2/3 (flip)")).length, 11);
        assert.match(
            r.lines[0],
            /^step 1\/3 \(canary 10\) 0:00\/5:00 · green 1000 req · errors 0\.00% vs 0\.10% · p99 0\.100 s vs 0\.100 s · alarms ok \(1\)$/,
        );
    });

    it("rolls back at the poll where the alarm fires, with the alarm named", async () => {
        const r = await run(startRaw(STEP_LISTS.default, "start"), [], ["healthy", "healthy", "alarm"]);
        assert.equal(r.outcome.kind, "rolled-back");
        assert.equal((r.outcome as { reason: string }).reason, "alarm firing on green: switchyard-dev-web-green-5xx (Threshold Crossed)");
        assert.deepEqual(
            r.edits.map((e) => [e.request, e.at]),
            [
                ["canary", 0],
                ["rollback", 60_000],
            ],
        );
        assert.deepEqual(r.applies, ["canary 10", "rollback"]);
        assert.deepEqual(traffic(r.raw), { live: "blue", canary: undefined, routes: [], previous: undefined });
        assert.equal(exitCode(r.outcome), 1);
    });

    it("after the flip watches the new live colour and rolls back to the warm old one", async () => {
        const r = await run(startRaw(STEP_LISTS.default, "start"), [], [...Array(11).fill("healthy"), "healthy", "errors"]);
        assert.deepEqual(r.outcome, {
            kind: "rolled-back",
            step: "step 2/3 (flip)",
            reason: "green error rate 5.00% over the bake (50 target 5xx and 0 connection errors of 1000 requests) is above maxErrorRatePercent 1%",
        });
        assert.deepEqual(traffic(r.raw), { live: "blue", canary: undefined, routes: [], previous: undefined });
    });

    it("judges p99 and error rate against the live colour", async () => {
        const slow = await run(startRaw(STEP_LISTS.default, "start"), [], ["slow"]);
        assert.equal(
            (slow.outcome as { reason: string }).reason,
            "green p99 1.200 s over the bake is 12.0x blue's 0.100 s; maxP99LatencyRatio is 1.5",
        );
    });

    it("extends a bake with too few requests once, then passes on alarms alone and says so", async () => {
        const r = await run(startRaw(STEP_LISTS.noFinish, "start"), [], Array(40).fill("quiet"), Infinity, { continuePastPause: true });
        assert.equal(r.outcome.kind, "done");
        assert.ok(
            r.lines.includes("! step 2/4 (canary 5): fewer than minRequests 50 requests so far; extending the bake by up to 60 s"),
            r.lines.join("\n"),
        );
        assert.deepEqual((r.outcome as { notes: readonly string[] }).notes, [
            "step 2/4 (canary 5): rates not judged: green served fewer than minRequests 50 requests in 2:00; passed on alarms alone",
            "step 3/4 (canary 25): rates not judged: green served fewer than minRequests 50 requests in 2:00; passed on alarms alone",
        ]);
    });

    it("stops at a pause; only --continue passes it, once, after baking the step before it again", async () => {
        const first = await run(startRaw(STEP_LISTS.design, "start"), [], []);
        assert.deepEqual(first.outcome, { kind: "paused", step: 2, after: "canary 50" });
        assert.equal(traffic(first.raw).canary?.percent, 50);
        // Run again without approval (e.g. a runner that died in the bake before the pause): it bakes again and stops again.
        const again = await run(first.raw, [], []);
        assert.deepEqual(again.outcome, { kind: "paused", step: 2, after: "canary 50" });
        assert.deepEqual(again.applies, ["canary 50 (again)"]);
        assert.deepEqual(again.edits, []);
        const second = await run(first.raw, [], [], Infinity, { continuePastPause: true });
        assert.equal(second.outcome.kind, "done");
        assert.deepEqual(second.applies, ["canary 50 (again)", "flip", "finish"]);
        assert.deepEqual(
            second.edits.map((e) => e.request),
            ["flip", "finish"],
        );
        // Running it a third time: nothing to roll out.
        const third = await run(second.raw, [], []);
        assert.equal(third.outcome.kind, "refused");
        assert.equal(exitCode(third.outcome), 2);
    });

    it("a pause before any traffic moved stops the first run without an edit; --continue passes only that one", async () => {
        const steps = [{ pause: true }, { canary: 10, bakeSeconds: 60 }, { pause: true }, { flip: true, bakeSeconds: 60 }];
        const first = await run(startRaw(steps, "start"), [], []);
        assert.deepEqual(first.outcome, { kind: "paused", step: 0, after: undefined });
        assert.deepEqual(first.edits, []);
        const second = await run(first.raw, [], [], Infinity, { continuePastPause: true });
        assert.deepEqual(second.outcome, { kind: "paused", step: 2, after: "canary 10" });
        assert.deepEqual(second.applies, ["canary 10"]);
    });

    it("rolls back when an apply fails after traffic moved, and refuses nothing before it", async () => {
        const r = await run(startRaw(STEP_LISTS.default, "start"), [true, false], []);
        assert.deepEqual(r.outcome, {
            kind: "rolled-back",
            step: "step 2/3 (flip)",
            reason: "the apply of flip did not complete: pulumi up exited 255",
        });
        assert.deepEqual(r.applies, ["canary 10", "flip", "rollback"]);
    });

    it("stops when a person edits the stack file during a bake (e.g. a manual rollback), without undoing their edit", async () => {
        const r = await run(startRaw(STEP_LISTS.design, "start"), [], ["healthy", "person-rolls-back"]);
        assert.deepEqual(r.outcome, {
            kind: "stopped",
            reason:
                "Pulumi.dev.yaml was changed by someone else while rollout ran (its traffic or slots are not what rollout last " +
                "wrote); rollout stopped without touching it: run status to see where the release is",
        });
        assert.equal(exitCode(r.outcome), 1);
        // Only the first canary was rollout's; the person's rollback stands: no canary 50, no flip, no second rollback.
        assert.deepEqual(
            r.edits.map((e) => e.request),
            ["canary"],
        );
        assert.deepEqual(r.applies, ["canary 10"]);
        assert.deepEqual(traffic(r.raw), { live: "blue", canary: undefined, routes: [], previous: undefined });
    });

    it("a rollback whose apply fails is a person-must-act outcome (exit 3) naming what the file says and what AWS was last told", async () => {
        const r = await run(startRaw(STEP_LISTS.default, "start"), [true, true, false], [...Array(11).fill("healthy"), "errors"]);
        assert.deepEqual(r.outcome, {
            kind: "must-act",
            reason:
                "green error rate 5.00% over the bake (50 target 5xx and 0 connection errors of 1000 requests) is above maxErrorRatePercent 1%; " +
                "the rollback is written to the stack file but its apply did not complete: pulumi up exited 255",
            fileSays: "live blue",
            awsLastTold: "flip (live green, blue kept warm for rollback)",
        });
        assert.equal(exitCode(r.outcome), 3);
        assert.deepEqual(r.applies, ["canary 10", "flip", "rollback"]);
    });

    it("an apply refused by a concurrent update rolls nothing back: exit 3, the file says the step, AWS was last told the one before", async () => {
        const r = await run(startRaw(STEP_LISTS.design, "start"), [true, "concurrent"], []);
        assert.deepEqual(r.outcome, {
            kind: "must-act",
            reason:
                "the apply of canary 50 did not complete: pulumi up --stack dev was refused: another update is in progress (error: [409] Conflict); " +
                "rollout rolled nothing back, since another update is changing the stack",
            fileSays: "live blue, canary 50% to green",
            awsLastTold: "canary 10 (live blue, canary 10% to green)",
        });
        assert.equal(exitCode(r.outcome), 3);
        assert.deepEqual(r.applies, ["canary 10", "canary 50"]);
        assert.deepEqual(
            r.edits.map((e) => e.request),
            ["canary", "canary"],
        );
    });

    it("counts routes to the candidate as traffic moved: a failed first apply then rolls back instead of stopping", async () => {
        const raw0 = startRaw(STEP_LISTS.default, "start");
        const withRoute = { ...raw0, traffic: { live: "blue", routes: [{ color: "green", header: { name: "x-beta", values: ["1"] } }] } };
        const r = await run(withRoute, [false], []);
        assert.deepEqual(r.outcome, {
            kind: "rolled-back",
            step: "step 1/3 (canary 10)",
            reason: "the apply of canary 10 did not complete: pulumi up exited 255",
        });
        assert.deepEqual(traffic(r.raw), { live: "blue", canary: undefined, routes: [], previous: undefined });
    });

    it("rolls back when something unexpected stops it after traffic moved", async () => {
        // Reads: the start, before the canary edit, after it; the fourth (the bake's) breaks, once traffic moved.
        const r = await run(startRaw(STEP_LISTS.default, "start"), [], [], 3);
        assert.deepEqual(r.outcome, {
            kind: "rolled-back",
            step: "rollout",
            reason: "stopped by an unexpected error: Pulumi.dev.yaml is not valid YAML",
        });
        assert.deepEqual(r.applies, ["canary 10", "rollback"]);
        assert.deepEqual(traffic(r.raw), { live: "blue", canary: undefined, routes: [], previous: undefined });
    });

    it("property: the final file is the finished release, the last safe routing, or exactly the steps before a pause", async () => {
        await fc.assert(
            fc.asyncProperty(
                fc.constantFrom(...Object.keys(STEP_LISTS)),
                fc.constantFrom<"start" | "canary" | "flipped">("start", "canary", "flipped"),
                fc.array(fc.boolean(), { maxLength: 6 }),
                fc.array(fc.constantFrom<Poll>("healthy", "healthy", "healthy", "alarm", "errors", "slow", "quiet", "unreadable"), {
                    maxLength: 80,
                }),
                fc.boolean(),
                async (list, at, applies, polls, continuePastPause) => {
                    const steps = STEP_LISTS[list];
                    const raw0 = startRaw(steps, at);
                    if (!rolloutPosition(parseConfig(raw0, "dev")).ok) return;
                    const r = await run(raw0, [...applies], [...polls], Infinity, { continuePastPause });
                    const t = traffic(r.raw);
                    const s = slots(r.raw);
                    const hasFinish = steps.some((x) => "finish" in (x as object));
                    const finished =
                        t.live === "green" &&
                        t.canary === undefined &&
                        (hasFinish ? t.previous === undefined && s.blue?.idle === true : t.previous === "blue");
                    const safe = t.live === "blue" && t.canary === undefined && t.previous === undefined && !s.green?.idle;
                    switch (r.outcome.kind) {
                        case "done":
                            assert.ok(finished, JSON.stringify(r.raw));
                            break;
                        case "rolled-back":
                            assert.ok(safe, JSON.stringify(r.raw));
                            // Invariant 11: the rollback edit is made at the poll that failed (no extra interval).
                            if (r.failedPollAt !== undefined) assert.equal(r.edits.at(-1)?.at, r.failedPollAt);
                            break;
                        case "must-act":
                            // A failed finish apply (the release is finished) or a failed rollback apply (the file is safe).
                            assert.ok(finished || safe, `${JSON.stringify(r.outcome)} ${JSON.stringify(r.raw)}`);
                            assert.equal(exitCode(r.outcome), 3);
                            break;
                        case "paused": {
                            const before = (steps.slice(0, r.outcome.step) as Record<string, number>[]).filter((x) => "canary" in x);
                            assert.equal(t.live, "blue");
                            assert.equal(t.canary?.percent, before.at(-1)?.canary);
                            break;
                        }
                        default:
                            assert.fail(`unexpected outcome ${JSON.stringify(r.outcome)}`);
                    }
                },
            ),
            { numRuns: 300 },
        );
    });
});
