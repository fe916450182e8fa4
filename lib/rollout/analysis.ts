/**
 * The analysis decision: from one poll's samples (the watched colour's metrics and alarms, and the
 * other colour's metrics as the baseline) to healthy, failed (with the reason and its numbers),
 * or not enough requests to judge a rate. Pure: the AWS reads are in lib/aws/analysis.ts.
 */
import { AnalysisSettings, Color } from "../model";

/** One colour's target-group metrics over the bake so far. */
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

export interface Sample {
    /** The colour being judged: the candidate during canaries, the new live colour after the flip. */
    readonly watched: ColorSample;
    /** The other colour while it serves production (canaries); absent after the flip. */
    readonly baseline?: ColorSample;
    /** The watched colour's alarms (name prefix `switchyard-<stack>-<service>-<color>-`). */
    readonly alarms: readonly AlarmSample[];
}

export type Verdict =
    | { readonly kind: "healthy" }
    /** Alarms are quiet but the watched colour has fewer than minRequests requests: rates not judged. */
    | { readonly kind: "too-few-requests" }
    | { readonly kind: "failed"; readonly reason: string };

/** Judges one poll: a firing alarm, then the error rate (absolute, then against the baseline), then p99 against the baseline. */
export function judge(sample: Sample, settings: AnalysisSettings): Verdict {
    const { watched, baseline } = sample;
    if (settings.alarms) {
        const firing = sample.alarms.filter((a) => a.state === "ALARM");
        if (firing.length > 0) {
            return failed(
                `alarm${firing.length === 1 ? "" : "s"} firing on ${watched.color}: ` +
                    firing.map((a) => `${a.name}${a.reason ? ` (${a.reason})` : ""}`).join("; "),
            );
        }
    }
    if (watched.requests < settings.minRequests) return { kind: "too-few-requests" };
    const rate = errorRate(watched);
    if (rate > settings.maxErrorRatePercent) {
        return failed(
            `${watched.color} error rate ${pct(rate)} (${watched.target5xx} target 5xx and ${watched.connectionErrors} connection errors of ${watched.requests} requests) ` +
                `is above maxErrorRatePercent ${settings.maxErrorRatePercent}%`,
        );
    }
    // A baseline is a comparison only when it has served enough requests itself.
    const comparable = baseline !== undefined && baseline.requests >= settings.minRequests ? baseline : undefined;
    if (comparable) {
        const base = errorRate(comparable);
        if (base > 0 && rate > settings.maxErrorRateRatio * base) {
            return failed(
                `${watched.color} error rate ${pct(rate)} is ${ratio(rate / base)} ${comparable.color}'s ${pct(base)} ` +
                    `(${errors(watched)} of ${watched.requests} vs ${errors(comparable)} of ${comparable.requests}); ` +
                    `maxErrorRateRatio is ${settings.maxErrorRateRatio}`,
            );
        }
        if (watched.p99 !== undefined && comparable.p99 !== undefined && comparable.p99 > 0) {
            const r = watched.p99 / comparable.p99;
            if (r > settings.maxP99LatencyRatio) {
                return failed(
                    `${watched.color} p99 ${secs(watched.p99)} is ${ratio(r)} ${comparable.color}'s ${secs(comparable.p99)}; ` +
                        `maxP99LatencyRatio is ${settings.maxP99LatencyRatio}`,
                );
            }
        }
    }
    return { kind: "healthy" };
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
const pct = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)}%`;
const secs = (n: number) => `${n.toFixed(3)} s`;
const ratio = (n: number) => `${n.toFixed(1)}x`;
