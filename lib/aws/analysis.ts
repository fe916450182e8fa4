/**
 * What `rollout` reads from AWS while a step bakes: per poll exactly one GetMetricData (request
 * count, target 5xx and p99 response time of both colours' target groups) and one DescribeAlarms
 * (the watched colour's alarms by name prefix), so a poll costs two calls whatever the bake's
 * length. The load balancer and target groups are found once, by the tags `verify` uses.
 */
import {
    CloudWatchClient,
    DescribeAlarmsCommand,
    GetMetricDataCommand,
    GetMetricDataCommandInput,
    MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { COLORS, Color } from "../model";
import { AlarmSample, ColorSample, Sample } from "../rollout/analysis";
import { AwsError, awsCall } from "./errors";
import { findStack } from "./inspect";

/** The `LoadBalancer` and `TargetGroup` dimension values of one stack's service. */
export interface AnalysisTargets {
    readonly loadBalancer: string;
    readonly targetGroups: Readonly<Record<Color, string>>;
}

/**
 * The metric dimension of an ELB ARN: the part after `loadbalancer/` (`app/<name>/<id>`) or the
 * `targetgroup/<name>/<id>` part of a target group ARN, as the ALB publishes them.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
 * ("Metric dimensions for Application Load Balancers": LoadBalancer is "the final portion of the
 * load balancer ARN", TargetGroup "the final portion of the target group ARN").
 */
export function arnDimension(arn: string): string {
    const lb = /:loadbalancer\/(.+)$/.exec(arn);
    if (lb) return lb[1];
    const tg = /:(targetgroup\/.+)$/.exec(arn);
    if (tg) return tg[1];
    throw new AwsError(`${arn} is neither a load balancer nor a target group ARN`, "InvalidArn");
}

/** Finds the stack's ALB and both target groups by their switchyard tags; undefined when none is tagged so. */
export async function findAnalysisTargets(opts: {
    readonly stack: string;
    readonly service: string;
    readonly region: string;
    readonly client?: ElasticLoadBalancingV2Client;
}): Promise<AnalysisTargets | undefined> {
    const state = await findStack(opts);
    if (!state) return undefined;
    const missing = COLORS.filter((c) => !state.targetGroups[c]);
    if (missing.length > 0) {
        throw new AwsError(
            `load balancer ${state.loadBalancer.name} has no target group tagged switchyard:color=${missing.join(", ")} for stack ${opts.stack}; run pulumi up first`,
            "TargetGroupNotFound",
        );
    }
    return {
        loadBalancer: arnDimension(state.loadBalancer.arn),
        targetGroups: { blue: arnDimension(state.targetGroups.blue!), green: arnDimension(state.targetGroups.green!) },
    };
}

/**
 * Alarm names of one colour, as components/monitoring.ts names them: `switchyard-<stack>-<service>-<color>-<metric>`,
 * with characters other than letters, digits, - and _ turned into -.
 */
export function alarmPrefix(stack: string, service: string, color?: Color): string {
    return `switchyard-${stack}-${service}-${color ? `${color}-` : ""}`.replace(/[^A-Za-z0-9_-]/g, "-");
}

const METRICS = [
    { id: "requests", name: "RequestCount", stat: "Sum" },
    { id: "errors", name: "HTTPCode_Target_5XX_Count", stat: "Sum" },
    { id: "p99", name: "TargetResponseTime", stat: "p99" },
] as const;

/**
 * The one GetMetricData request of a poll: each metric of each colour over the bake so far, as a
 * single datapoint. ALB metrics have one-minute resolution, so the window is widened to whole
 * minutes and the period is its length (a multiple of 60, as MetricStat requires for regular
 * resolution: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html).
 */
export function metricRequest(targets: AnalysisTargets, sinceMs: number, nowMs: number): GetMetricDataCommandInput {
    const start = Math.floor(sinceMs / 60_000) * 60_000;
    const end = Math.max(start + 60_000, Math.ceil(nowMs / 60_000) * 60_000);
    const period = (end - start) / 1000;
    return {
        StartTime: new Date(start),
        EndTime: new Date(end),
        ScanBy: "TimestampDescending",
        MetricDataQueries: COLORS.flatMap((color) =>
            METRICS.map((m) => ({
                Id: `${m.id}_${color}`,
                ReturnData: true,
                MetricStat: {
                    Metric: {
                        Namespace: "AWS/ApplicationELB",
                        MetricName: m.name,
                        Dimensions: [
                            { Name: "LoadBalancer", Value: targets.loadBalancer },
                            { Name: "TargetGroup", Value: targets.targetGroups[color] },
                        ],
                    },
                    Period: period,
                    Stat: m.stat,
                },
            })),
        ),
    };
}

export interface AnalysisClients {
    readonly cloudwatch: CloudWatchClient;
}

/** One poll: GetMetricData for both colours, DescribeAlarms for the watched colour's prefix. */
export async function readSample(
    clients: AnalysisClients,
    where: { readonly targets: AnalysisTargets; readonly stack: string; readonly service: string },
    watched: Color,
    baseline: Color | undefined,
    window: { readonly sinceMs: number; readonly nowMs: number },
): Promise<Sample> {
    const [metrics, alarms] = await Promise.all([
        awsCall("cloudwatch:GetMetricData", () =>
            clients.cloudwatch.send(new GetMetricDataCommand(metricRequest(where.targets, window.sinceMs, window.nowMs))),
        ),
        awsCall("cloudwatch:DescribeAlarms", () =>
            // 3 alarms a colour; MaxRecords allows up to 100, so one page always holds them.
            clients.cloudwatch.send(
                new DescribeAlarmsCommand({ AlarmNamePrefix: alarmPrefix(where.stack, where.service, watched), MaxRecords: 100 }),
            ),
        ),
    ]);
    const results = metrics.MetricDataResults ?? [];
    const colorSample = (color: Color): ColorSample => ({
        color,
        requests: sum(results, `requests_${color}`) ?? 0,
        errors: sum(results, `errors_${color}`) ?? 0,
        p99: sum(results, `p99_${color}`),
    });
    const alarmSamples: AlarmSample[] = (alarms.MetricAlarms ?? []).map((a) => ({
        name: a.AlarmName ?? "?",
        state: a.StateValue ?? "INSUFFICIENT_DATA",
        reason: a.StateReason,
    }));
    return { watched: colorSample(watched), baseline: baseline ? colorSample(baseline) : undefined, alarms: alarmSamples };
}

/** The topics the stack's alarms notify (`alarms.snsTopicArn` and the e-mail topic), read from the alarms themselves. */
export async function alarmTopics(cloudwatch: CloudWatchClient, stack: string, service: string): Promise<string[]> {
    const out = await awsCall("cloudwatch:DescribeAlarms", () =>
        cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: alarmPrefix(stack, service), MaxRecords: 100 })),
    );
    const topics = (out.MetricAlarms ?? [])
        .flatMap((a) => a.AlarmActions ?? [])
        .filter((arn) => arn.startsWith("arn:aws") && arn.includes(":sns:"));
    return [...new Set(topics)];
}

/** The value of a one-datapoint query (the sum of its datapoints, in case CloudWatch split the window). */
function sum(results: readonly MetricDataResult[], id: string): number | undefined {
    const values = results.find((r) => r.Id === id)?.Values ?? [];
    if (values.length === 0) return undefined;
    return id.startsWith("p99_") ? Math.max(...values) : values.reduce((a, b) => a + b, 0);
}
