/** `switchyard:rollout`: the steps `rollout` walks and what its analysis calls healthy. */
import { AnalysisSettings, RolloutSettings, RolloutStep, Strategy } from "../model";
import { Problems, describe } from "../problems";

const KEY = "switchyard:rollout";
const ACTIONS = ["canary", "pause", "flip", "finish"] as const;
type Action = (typeof ACTIONS)[number];

/** Seconds a step bakes when it does not say: the DESIGN default (canary 10 for 300 s, flip, 300 s). */
export const DEFAULT_BAKE_SECONDS = 300;
const MAX_BAKE_SECONDS = 86400;

export const DEFAULT_ROLLOUT: RolloutSettings = {
    steps: [
        { kind: "canary", percent: 10, bakeSeconds: DEFAULT_BAKE_SECONDS },
        { kind: "flip", bakeSeconds: DEFAULT_BAKE_SECONDS },
        { kind: "finish" },
    ],
    analysis: {
        intervalSeconds: 30,
        alarms: true,
        minRequests: 50,
        maxErrorRatePercent: 1,
        maxErrorRateRatio: 2,
        maxP99LatencyRatio: 1.5,
    },
};

export function parseRollout(p: Problems, value: unknown, strategy: Strategy): RolloutSettings {
    const r = p.object(KEY, value, ["steps", "analysis"]);
    if (r && strategy === "rolling") {
        p.add(
            `${KEY} is a blue-green key (it walks a candidate colour to live) and cannot be used with switchyard:strategy rolling; remove it`,
        );
    }
    const steps = r?.steps === undefined || r.steps === null ? DEFAULT_ROLLOUT.steps : parseSteps(p, r.steps);
    return { steps, analysis: parseAnalysis(p, r?.analysis) };
}

function parseSteps(p: Problems, value: unknown): RolloutStep[] {
    const key = `${KEY}.steps`;
    if (!Array.isArray(value) || value.length === 0) {
        p.add(`${key} must be a list of at least one step, e.g. [{canary: 10, bakeSeconds: 300}, {flip: true}] (got ${describe(value)})`);
        return [];
    }
    const steps: RolloutStep[] = [];
    let flipAt: number | undefined;
    let finishAt: number | undefined;
    let lastCanary: { percent: number; at: number } | undefined;
    value.forEach((item, i) => {
        const sk = `${key}[${i}]`;
        const s = p.object(sk, item, [...ACTIONS, "bakeSeconds"]);
        if (!s) {
            if (item === undefined || item === null) p.add(`${sk} is empty; give it one of ${ACTIONS.join(", ")}`);
            return;
        }
        const actions = ACTIONS.filter((a) => s[a] !== undefined);
        if (actions.length !== 1) {
            p.add(
                actions.length === 0
                    ? `${sk} needs one action: canary: <percent>, pause: true, flip: true or finish: true`
                    : `${sk} has ${actions.length} actions (${actions.join(" and ")}); give each step exactly one, as separate steps`,
            );
            return;
        }
        const action: Action = actions[0];
        if (finishAt !== undefined) p.add(`${sk} (${action}) comes after finish (${key}[${finishAt}]); finish must be the last step`);
        const step = parseStep(p, sk, action, s);
        if (!step) return;
        if (step.kind === "canary") {
            if (flipAt !== undefined) {
                p.add(`${sk} (canary ${step.percent}) comes after the flip (${key}[${flipAt}]); canaries go before the flip`);
            }
            if (lastCanary && step.percent <= lastCanary.percent) {
                p.add(
                    `${sk}.canary ${step.percent} must be above ${lastCanary.percent} (${key}[${lastCanary.at}]): canary percents only increase`,
                );
            }
            lastCanary = { percent: step.percent, at: i };
        } else if (step.kind === "flip") {
            if (flipAt !== undefined) p.add(`${sk} is a second flip (the first is ${key}[${flipAt}]); a rollout flips once`);
            flipAt ??= i;
        } else if (step.kind === "finish") {
            if (flipAt === undefined) {
                p.add(`${sk} (finish) comes before any flip: finish scales down the old colour, which exists only after the flip`);
            }
            finishAt ??= i;
        }
        steps.push(step);
    });
    // A flip step that was given but invalid is reported already; do not also call it missing.
    const flipGiven = value.some((item) => typeof item === "object" && item !== null && "flip" in item);
    if (!flipGiven) {
        p.add(`${key} needs one step flip: true (the candidate becomes live), after the canaries`);
    }
    return steps;
}

function parseStep(p: Problems, sk: string, action: Action, s: Record<string, unknown>): RolloutStep | undefined {
    const bake = (min: number) => p.int(`${sk}.bakeSeconds`, s.bakeSeconds, { min, max: MAX_BAKE_SECONDS, default: DEFAULT_BAKE_SECONDS });
    const mustBeTrue = () => {
        const v = p.boolean(`${sk}.${action}`, s[action]);
        if (v === false) p.add(`${sk}.${action} must be true (to skip the step, remove it)`);
        return v === true;
    };
    switch (action) {
        case "canary": {
            const percent = p.int(`${sk}.canary`, s.canary, { min: 1, max: 99 });
            if (s.bakeSeconds === 0 || s.bakeSeconds === "0") {
                p.add(`${sk}.bakeSeconds must be at least 1 on a canary: a canary nobody watches proves nothing (got 0)`);
                return undefined;
            }
            const bakeSeconds = bake(1);
            return percent === undefined ? undefined : { kind: "canary", percent, bakeSeconds };
        }
        case "flip":
            return mustBeTrue() ? { kind: "flip", bakeSeconds: bake(0) } : undefined;
        case "pause":
        case "finish":
            if (s.bakeSeconds !== undefined) {
                p.add(
                    `${sk}.bakeSeconds does not apply to ${action}: ` +
                        (action === "pause" ? "a pause waits for the next run" : "nothing takes new traffic after finish") +
                        "; remove it",
                );
            }
            return mustBeTrue() ? { kind: action } : undefined;
    }
}

function parseAnalysis(p: Problems, value: unknown): AnalysisSettings {
    const key = `${KEY}.analysis`;
    const d = DEFAULT_ROLLOUT.analysis;
    const a = p.object(key, value, Object.keys(d)) ?? {};
    return {
        intervalSeconds: p.int(`${key}.intervalSeconds`, a.intervalSeconds, { min: 1, max: 3600, default: d.intervalSeconds }),
        alarms: p.boolean(`${key}.alarms`, a.alarms) ?? d.alarms,
        minRequests: p.int(`${key}.minRequests`, a.minRequests, { min: 1, max: 1_000_000_000, default: d.minRequests }),
        maxErrorRatePercent: number(p, `${key}.maxErrorRatePercent`, a.maxErrorRatePercent, 0, 100, d.maxErrorRatePercent),
        maxErrorRateRatio: number(p, `${key}.maxErrorRateRatio`, a.maxErrorRateRatio, 1, 1000, d.maxErrorRateRatio),
        maxP99LatencyRatio: number(p, `${key}.maxP99LatencyRatio`, a.maxP99LatencyRatio, 1, 1000, d.maxP99LatencyRatio),
    };
}

/** A decimal number in min..max (both inclusive), or the default when absent. */
function number(p: Problems, key: string, value: unknown, min: number, max: number, fallback: number): number {
    if (value === undefined || value === null) return fallback;
    const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
        p.add(`${key} must be a number ${min}..${max} (got ${describe(value)})`);
        return fallback;
    }
    return n;
}
