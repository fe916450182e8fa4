/**
 * The health gate (invariant 6): before traffic moves to a colour, wait until its target group
 * has enough healthy targets, none of its alarms fires, and (optionally) a request through the
 * test listener answers as expected. Plain module: AWS SDK calls only, no Pulumi.
 */
import { CloudWatchClient, DescribeAlarmsCommand, MetricAlarm } from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Color } from "../config";
import { beforeDeadline, cloudwatchClient, elbv2Client } from "./clients";
import { AwsError, awsCall } from "./errors";
import { TargetHealthSummary, describeNotHealthy, readTargetHealth, resolveRegion } from "./inspect";

export interface GateColor {
    readonly color: Color;
    readonly targetGroupArn: string;
    /** Targets that must be in state `healthy` (service.minHealthyTargets). */
    readonly minHealthy: number;
    /** CloudWatch alarms that must not be in state ALARM. */
    readonly alarmNames?: readonly string[];
}

export interface GateOptions {
    readonly colors: readonly GateColor[];
    /** Give up after this long (service.gateTimeoutSeconds). */
    readonly timeoutSeconds: number;
    /** A request through the test listener, checked once the targets are healthy. */
    readonly probe?: { readonly url: string; readonly expectStatus?: number };
    /** @default AWS_REGION */
    readonly region?: string;
    /** Clients to use instead of building them from the environment. */
    readonly clients?: { readonly elbv2?: ElasticLoadBalancingV2Client; readonly cloudwatch?: CloudWatchClient };
    /** Delay between polls: starts at initialMs and doubles up to maxMs. @default { initialMs: 2000, maxMs: 15000 } */
    readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
    readonly sleep?: (ms: number) => Promise<void>;
    /** Milliseconds clock. @default Date.now */
    readonly now?: () => number;
}

export interface GateResult {
    readonly colors: readonly { readonly color: Color; readonly healthy: number; readonly required: number; readonly total: number }[];
    /** Polls made, including the passing one. */
    readonly attempts: number;
    readonly elapsedSeconds: number;
}

/** Why one poll did not pass; rendered into the timeout error. */
type Failure = (afterSeconds: number) => string;

const PROBE_TIMEOUT_MS = 5000;
/** The gate fails at most this long after its deadline, even when AWS does not answer. */
export const LAST_POLL_GRACE_MS = 1000;

/**
 * Polls until every colour has at least `minHealthy` healthy targets, no listed alarm is in
 * ALARM and the probe answers `expectStatus`. On timeout throws one error naming each failing
 * check; a missing target group or alarm, missing credentials or a refused call fail at once.
 */
export async function waitForHealthyTargets(opts: GateOptions): Promise<GateResult> {
    if (!(opts.timeoutSeconds > 0)) throw new Error(`health gate: timeoutSeconds must be positive (got ${opts.timeoutSeconds})`);
    const needsRegion = !opts.clients?.elbv2 || (!opts.clients?.cloudwatch && opts.colors.some((c) => c.alarmNames?.length));
    const region = needsRegion ? resolveRegion(opts.region) : opts.region;
    const elbv2 = opts.clients?.elbv2 ?? elbv2Client(region);
    const cloudwatch = opts.clients?.cloudwatch ?? cloudwatchClient(region);
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const now = opts.now ?? Date.now;
    const { initialMs, maxMs } = opts.backoff ?? { initialMs: 2000, maxMs: 15000 };
    const timeoutMs = opts.timeoutSeconds * 1000;

    const start = now();
    let delay = initialMs;
    /** What the last poll that ended found wrong: named when a poll is still waiting for AWS at the deadline. */
    let lastFailures: Failure[] = [];
    for (let attempts = 1; ; attempts++) {
        const poll = async () => {
            const health = await Promise.all(opts.colors.map((c) => readGateHealth(elbv2, c)));
            const failures: Failure[] = [];
            opts.colors.forEach((c, i) => {
                const h = health[i];
                if (h.healthy < c.minHealthy) {
                    failures.push(
                        (s) => `${c.color} has ${h.healthy} of ${c.minHealthy} healthy targets after ${s} s (${describeNotHealthy(h)})`,
                    );
                }
            });
            failures.push(...(await firingAlarms(cloudwatch, opts.colors)));
            if (failures.length === 0 && opts.probe) {
                const probeFailure = await runProbe(opts.probe.url, opts.probe.expectStatus ?? 200);
                if (probeFailure) failures.push(probeFailure);
            }
            return { health, failures };
        };
        // A call in flight at the deadline does not hold the gate past it (the clients' own timeouts are
        // longer); the poll made at the deadline itself gets LAST_POLL_GRACE_MS to say what it sees.
        const { health, failures } = await beforeDeadline(poll(), Math.max(start + timeoutMs - now(), LAST_POLL_GRACE_MS), () => {
            const found = lastFailures.map((f) => f(opts.timeoutSeconds));
            return new Error(
                `health gate: ${[...found, `AWS had not answered poll ${attempts} when the gate timed out after ${opts.timeoutSeconds} s`].join("; ")}`,
            );
        });
        lastFailures = failures;
        const elapsedMs = now() - start;
        if (failures.length === 0) {
            return {
                colors: opts.colors.map((c, i) => ({
                    color: c.color,
                    healthy: health[i].healthy,
                    required: c.minHealthy,
                    total: health[i].total,
                })),
                attempts,
                elapsedSeconds: elapsedMs / 1000,
            };
        }
        if (elapsedMs >= timeoutMs) {
            throw new Error(`health gate: ${failures.map((f) => f(opts.timeoutSeconds)).join("; ")}`);
        }
        await sleep(Math.min(delay, timeoutMs - elapsedMs));
        delay = Math.min(delay * 2, maxMs);
    }
}

async function readGateHealth(client: ElasticLoadBalancingV2Client, c: GateColor): Promise<TargetHealthSummary> {
    try {
        return await readTargetHealth(client, c.targetGroupArn);
    } catch (err) {
        if (err instanceof AwsError && err.code === "TargetGroupNotFound") {
            throw new AwsError(`health gate: ${c.color}'s ${err.message}`, err.code);
        }
        throw err;
    }
}

async function firingAlarms(client: CloudWatchClient, colors: readonly GateColor[]): Promise<Failure[]> {
    const owner = new Map<string, Color>();
    for (const c of colors) for (const name of c.alarmNames ?? []) owner.set(name, c.color);
    if (owner.size === 0) return [];
    const names = [...owner.keys()];
    const found: MetricAlarm[] = [];
    for (let i = 0; i < names.length; i += 100) {
        const batch = names.slice(i, i + 100);
        let token: string | undefined;
        do {
            const out = await awsCall("cloudwatch:DescribeAlarms", () =>
                client.send(
                    new DescribeAlarmsCommand({ AlarmNames: batch, AlarmTypes: ["MetricAlarm", "CompositeAlarm"], NextToken: token }),
                ),
            );
            found.push(...(out.MetricAlarms ?? []), ...((out.CompositeAlarms ?? []) as MetricAlarm[]));
            token = out.NextToken;
        } while (token);
    }
    const missing = names.filter((n) => !found.some((a) => a.AlarmName === n));
    if (missing.length > 0) {
        throw new AwsError(
            `health gate: alarm${missing.length === 1 ? "" : "s"} ${missing.map((n) => `${n} (${owner.get(n)})`).join(", ")} not found in CloudWatch; check the alarm names and region`,
            "AlarmNotFound",
        );
    }
    return found
        .filter((a) => a.StateValue === "ALARM")
        .map(
            (a) => (s: number) =>
                `alarm ${a.AlarmName} (${owner.get(a.AlarmName!)}) is in ALARM after ${s} s${a.StateReason ? `: ${a.StateReason}` : ""}`,
        );
}

async function runProbe(url: string, expectStatus: number): Promise<Failure | undefined> {
    try {
        const res = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS), redirect: "manual" });
        await res.body?.cancel();
        if (res.status === expectStatus) return undefined;
        return (s) => `probe GET ${url} answered ${res.status}, expected ${expectStatus}, after ${s} s`;
    } catch (err) {
        const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
        const why =
            e.name === "TimeoutError"
                ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s`
                : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
        return (s) => `probe GET ${url} failed after ${s} s: ${why}`;
    }
}
