/**
 * The analysis decision: from one poll's samples (the watched colour's metrics and alarms, and the
 * other colour's metrics as the baseline) to healthy, failed (with the reason and its numbers),
 * or not enough requests to judge a rate. Pure: the AWS reads are in lib/aws/analysis.ts.
 */
import { AnalysisSettings, Color } from "../model";

/** One colour's target-group metrics over one window: the bake so far, or one minute of it. */
export interface ColorSample {
    readonly color: Color;
    /** RequestCount, Sum. */
    readonly requests: number;
    /** HTTPCode_Target_5XX_Count, Sum: the 5xx responses the targets sent. */
    readonly target5xx: number;
    /**
     * TargetConnectionErrorCount, Sum: connections the load balancer could not establish with a
     * target (tasks refusing or resetting connections, crashed). The ALB answers those requests
     * with its own 5xx, which HTTPCode_Target_5XX_Count leaves out; both count as errors.
     */
    readonly connectionErrors: number;
    /** TargetResponseTime p99, seconds; undefined when CloudWatch has no datapoint. */
    readonly p99?: number;
}

export interface AlarmSample {
    readonly name: string;
    readonly state: string;
    readonly reason?: string;
}

/** One complete minute of the bake, as CloudWatch has published it. */
export interface MinuteSample {
    /** The minute's start, ms since the epoch. */
    readonly startMs: number;
    readonly watched: ColorSample;
    /** The baseline's figures in the same minute (0 requests when it has no datapoint). */
    readonly baseline?: ColorSample;
}

export interface Sample {
    /** The colour being judged over the bake so far: the candidate during canaries, the new live colour after the flip. */
    readonly watched: ColorSample;
    /** The other colour over the bake so far, while it serves production (canaries); absent after the flip. */
    readonly baseline?: ColorSample;
    /**
     * The bake's complete minutes CloudWatch has data for, oldest first. Each is judged on its own
     * as well, so a bad minute late in a long bake is not diluted by the clean minutes before it.
     */
    readonly minutes: readonly MinuteSample[];
    /** The watched colour's alarms (the names components/monitoring.ts gives them). */
    readonly alarms: readonly AlarmSample[];
}

export type Verdict =
    | { readonly kind: "healthy" }
    /** Alarms are quiet but the watched colour has fewer than minRequests requests: rates not judged. */
    | { readonly kind: "too-few-requests" }
    | { readonly kind: "failed"; readonly reason: string };

/**
 * Judges one poll: a firing alarm; then, once the watched colour has minRequests requests in the
 * bake, its rates over the bake and in each complete minute that itself holds minRequests of its
 * requests (error rate, absolute then against the baseline, then p99 against the baseline).
 */
export function judge(sample: Sample, settings: AnalysisSettings): Verdict {
    const { watched } = sample;
    if (settings.alarms) {
        const firing = sample.alarms.filter((a) => a.state === "ALARM");
        if (firing.length > 0) {
            return failed(
                `alarm${firing.length === 1 ? "" : "s"} firing on ${watched.color}: ` +
                    firing.map((a) => `${a.name}${a.reason ? ` (${a.reason})` : ""}`).join("; "),
            );
        }
    }
    // Each minute is part of the bake, so a bake below minRequests has no minute at or above it.
    if (watched.requests < settings.minRequests) return { kind: "too-few-requests" };
    const windows = [
        { label: "over the bake", watched, baseline: sample.baseline },
        ...sample.minutes
            .filter((m) => m.watched.requests >= settings.minRequests)
            .map((m) => ({ label: `in the minute ${minuteText(m.startMs)}`, watched: m.watched, baseline: m.baseline })),
    ];
    for (const w of windows) {
        const reason = breach(w.label, w.watched, w.baseline, settings);
        if (reason) return failed(reason);
    }
    return { kind: "healthy" };
}

/** Why one window's rates fail, or undefined when they pass. */
function breach(label: string, watched: ColorSample, baseline: ColorSample | undefined, settings: AnalysisSettings): string | undefined {
    const rate = errorRate(watched);
    if (rate > settings.maxErrorRatePercent) {
        return (
            `${watched.color} error rate ${pct(rate)} ${label} (${watched.target5xx} target 5xx and ${watched.connectionErrors} connection errors of ${watched.requests} requests) ` +
            `is above maxErrorRatePercent ${settings.maxErrorRatePercent}%`
        );
    }
    // A baseline is a comparison only when it has served enough requests itself in that window.
    if (baseline === undefined || baseline.requests < settings.minRequests) return undefined;
    const base = errorRate(baseline);
    if (base > 0 && rate > settings.maxErrorRateRatio * base) {
        return (
            `${watched.color} error rate ${pct(rate)} ${label} is ${ratio(rate / base)} ${baseline.color}'s ${pct(base)} ` +
            `(${errors(watched)} of ${watched.requests} vs ${errors(baseline)} of ${baseline.requests}); ` +
            `maxErrorRateRatio is ${settings.maxErrorRateRatio}`
        );
    }
    if (watched.p99 !== undefined && baseline.p99 !== undefined && baseline.p99 > 0) {
        const r = watched.p99 / baseline.p99;
        if (r > settings.maxP99LatencyRatio) {
            return (
                `${watched.color} p99 ${secs(watched.p99)} ${label} is ${ratio(r)} ${baseline.color}'s ${secs(baseline.p99)}; ` +
                `maxP99LatencyRatio is ${settings.maxP99LatencyRatio}`
            );
        }
    }
    return undefined;
}

/** One progress line's analysis part: requests, error rate (target 5xx and connection errors) and p99 against the baseline, alarms. */
export function describeSample(sample: Sample, settings: AnalysisSettings): string {
    const { watched, baseline } = sample;
    const vs = (mine: string, theirs: string | undefined) => (baseline && theirs !== undefined ? `${mine} vs ${theirs}` : mine);
    const firing = sample.alarms.filter((a) => a.state === "ALARM").map((a) => a.name);
    const alarms = !settings.alarms
        ? "alarms not watched"
        : firing.length > 0
          ? `ALARM: ${firing.join(", ")}`
          : `alarms ok (${sample.alarms.length})`;
    const enough = watched.requests >= settings.minRequests;
    return [
        `${watched.color} ${watched.requests} req${enough ? "" : ` (< minRequests ${settings.minRequests}: rates not judged yet)`}`,
        `errors ${vs(watched.requests > 0 ? pct(errorRate(watched)) : "-", baseline && baseline.requests > 0 ? pct(errorRate(baseline)) : "-")}`,
        `p99 ${vs(watched.p99 !== undefined ? secs(watched.p99) : "-", baseline ? (baseline.p99 !== undefined ? secs(baseline.p99) : "-") : undefined)}`,
        alarms,
    ].join(" · ");
}

/** Target 5xx and connection errors: every failed request the window can attribute to this colour. */
function errors(s: ColorSample): number {
    return s.target5xx + s.connectionErrors;
}

function errorRate(s: ColorSample): number {
    return s.requests > 0 ? (100 * errors(s)) / s.requests : 0;
}

const failed = (reason: string): Verdict => ({ kind: "failed", reason });
/** `12:04–12:05 UTC` for the minute starting at 12:04 UTC. */
const minuteText = (startMs: number) => `${hhmm(startMs)}–${hhmm(startMs + 60_000)} UTC`;
const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const pct = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)}%`;
const secs = (n: number) => `${n.toFixed(3)} s`;
const ratio = (n: number) => `${n.toFixed(1)}x`;
