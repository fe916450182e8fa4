import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Transform, createWith } from "./transform";
import { AlarmSuffix, alarmName, alarmSafe } from "../lib/alarms";
import { AlarmSettings, Color } from "../lib/config";
import { colorTags } from "../lib/tags";

export interface MonitoringArgs {
    /** Base tags (stack, service); alarms get `switchyard:color` too. */
    readonly tags: Record<string, string>;
    /**
     * Prefix of the alarm and dashboard names, unique per stack and service in an account and
     * region (`switchyard-<stack>-<service>`). Characters other than letters, digits, - and _ become -.
     */
    readonly namePrefix: string;
    /** The load balancer's ARN suffix (the `LoadBalancer` metric dimension). */
    readonly loadBalancerArnSuffix: pulumi.Input<string>;
    /** The target group ARN suffix of every colour with a fleet (the `TargetGroup` dimension). */
    readonly targetGroupArnSuffixes: Partial<Record<Color, pulumi.Input<string>>>;
    /** Thresholds and notification targets (`switchyard:alarms`). */
    readonly alarms: AlarmSettings;
    /** Region of the metrics, for the dashboard. */
    readonly region: pulumi.Input<string>;
    /** A typed escape hatch for every alarm (components/transform.ts). @default none */
    readonly transform?: Transform<aws.cloudwatch.MetricAlarmArgs>;
}

const NAMESPACE = "AWS/ApplicationELB";
const PERIOD_SECONDS = 60;
const LINE_COLORS: Record<Color, string> = { blue: "#1f77b4", green: "#2ca02c" };

/**
 * Per colour with a fleet: alarms on target 5xx responses, unhealthy hosts and p99 latency; the
 * SNS topic they notify; one dashboard comparing the colours. The health gate refuses to move
 * traffic to a colour while one of its alarms fires.
 */
export class Monitoring extends pulumi.ComponentResource {
    /** The names of each colour's alarms (what the health gate checks). */
    public readonly alarmNames: Partial<Record<Color, pulumi.Output<string>[]>>;
    public readonly alarms: Partial<Record<Color, aws.cloudwatch.MetricAlarm[]>>;
    /** The topic created for `alarms.emails`; undefined without emails. */
    public readonly topic?: aws.sns.Topic;
    /** Where alarm and OK notifications go: `alarms.snsTopicArn` and/or `topic`. */
    public readonly notificationTopicArns: pulumi.Input<string>[];
    public readonly dashboard: aws.cloudwatch.Dashboard;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("switchyard:monitoring:Monitoring", name, {}, opts);
        const { alarms: settings } = args;
        const prefix = alarmSafe(args.namePrefix);
        const colors = (Object.keys(args.targetGroupArnSuffixes) as Color[]).sort();

        if (settings.emails.length > 0) {
            this.topic = new aws.sns.Topic(`${name}-alarms`, { tags: args.tags }, { parent: this });
            for (const email of settings.emails) {
                new aws.sns.TopicSubscription(
                    `${name}-alarms-${email}`,
                    { topic: this.topic.arn, protocol: "email", endpoint: email },
                    { parent: this },
                );
            }
        }
        this.notificationTopicArns = [...(settings.snsTopicArn ? [settings.snsTopicArn] : []), ...(this.topic ? [this.topic.arn] : [])];

        this.alarms = {};
        this.alarmNames = {};
        for (const color of colors) {
            const dimensions = { LoadBalancer: args.loadBalancerArnSuffix, TargetGroup: args.targetGroupArnSuffixes[color]! };
            // The suffixes and names are lib/alarms.ts's, which rollout reads back by exact name.
            const alarm = (suffix: AlarmSuffix, metric: AlarmMetric) =>
                createWith(
                    "alarm",
                    args.transform,
                    aws.cloudwatch.MetricAlarm,
                    `${name}-${color}-${suffix}`,
                    {
                        name: alarmName(prefix, color, suffix),
                        namespace: NAMESPACE,
                        dimensions,
                        period: PERIOD_SECONDS,
                        evaluationPeriods: settings.evaluationPeriods,
                        treatMissingData: "notBreaching",
                        alarmActions: this.notificationTopicArns,
                        okActions: this.notificationTopicArns,
                        tags: colorTags(args.tags, color),
                        ...metric,
                        alarmDescription: `${prefix} ${color}: ${metric.alarmDescription} for ${settings.evaluationPeriods} minute(s)`,
                    },
                    { parent: this },
                );
            this.alarms[color] = [
                alarm("5xx", {
                    metricName: "HTTPCode_Target_5XX_Count",
                    statistic: "Sum",
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    threshold: settings.http5xxThreshold,
                    alarmDescription: `${settings.http5xxThreshold} or more target 5xx responses a minute`,
                }),
                alarm("unhealthy-hosts", {
                    metricName: "UnHealthyHostCount",
                    statistic: "Maximum",
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    threshold: settings.unhealthyHostsThreshold,
                    alarmDescription: `${settings.unhealthyHostsThreshold} or more unhealthy targets`,
                }),
                alarm("p99-latency", {
                    metricName: "TargetResponseTime",
                    extendedStatistic: "p99",
                    comparisonOperator: "GreaterThanThreshold",
                    threshold: settings.p99LatencySeconds,
                    alarmDescription: `p99 response time above ${settings.p99LatencySeconds} s`,
                }),
            ];
            this.alarmNames[color] = this.alarms[color]!.map((a) => a.name);
        }

        const graph = (title: string, metricName: string, stat: string, extra: object = {}) => ({
            type: "metric",
            width: 8,
            height: 6,
            properties: {
                title,
                view: "timeSeries",
                region: args.region,
                period: PERIOD_SECONDS,
                stat,
                metrics: colors.map((color) => [
                    NAMESPACE,
                    metricName,
                    "LoadBalancer",
                    args.loadBalancerArnSuffix,
                    "TargetGroup",
                    args.targetGroupArnSuffixes[color]!,
                    { label: color, color: LINE_COLORS[color] },
                ]),
                ...extra,
            },
        });
        this.dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                dashboardName: prefix,
                dashboardBody: pulumi.jsonStringify({
                    widgets: [
                        graph("Requests per minute", "RequestCount", "Sum"),
                        graph("Target 5xx per minute", "HTTPCode_Target_5XX_Count", "Sum", {
                            annotations: { horizontal: [{ label: "alarm", value: settings.http5xxThreshold }] },
                        }),
                        graph("p99 response time (s)", "TargetResponseTime", "p99", {
                            annotations: { horizontal: [{ label: "alarm", value: settings.p99LatencySeconds }] },
                        }),
                    ],
                }),
            },
            { parent: this },
        );

        this.registerOutputs({ alarmNames: this.alarmNames, dashboardName: this.dashboard.dashboardName });
    }
}

/** The metric-specific part of an alarm. */
type AlarmMetric = Pick<
    aws.cloudwatch.MetricAlarmArgs,
    "metricName" | "statistic" | "extendedStatistic" | "comparisonOperator" | "threshold"
> & { readonly alarmDescription: string };
