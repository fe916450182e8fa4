/** Monitoring: per-colour alarms, their notifications, and the dashboard. */
import { strict as assert } from "node:assert";
import { Monitoring } from "../../components/monitoring";
import { AlarmSettings, parseConfig } from "../../lib/config";
import { baseRaw } from "../helpers/configs";
import { Recorded, registered, settle } from "../helpers/mocks";
import { evaluate, ofType, one, stackFileConfig } from "../helpers/program";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPIC = "aws:sns/topic:Topic";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";

/** The alarm settings of a stack with `switchyard:alarms` set to `alarms` (defaults filled in). */
const settings = (alarms?: Record<string, unknown>): AlarmSettings => parseConfig({ ...baseRaw(), alarms }, "dev").alarms;

/** Builds a Monitoring component alone under the mocks and returns what it registered. */
async function monitor(alarms: AlarmSettings, colors: ("blue" | "green")[] = ["blue", "green"]): Promise<Recorded[]> {
    new Monitoring("mon", {
        tags: { "switchyard:stack": "dev", "switchyard:service": "web" },
        namePrefix: "switchyard-dev-web",
        loadBalancerArnSuffix: "app/alb/1",
        targetGroupArnSuffixes: Object.fromEntries(colors.map((c) => [c, `targetgroup/${c}/2`])),
        alarms,
        region: "eu-west-1",
    });
    await settle();
    return registered();
}

describe("Monitoring", () => {
    describe("in the committed prod stack", () => {
        let resources: Recorded[];
        before(async () => {
            resources = (await evaluate("prod", stackFileConfig("prod"))).resources;
        });

        it("has three alarms per colour with the stack's thresholds, on the colour's target group", () => {
            const alarms = ofType(resources, ALARM);
            assert.equal(alarms.length, 6);
            const topicArn = "arn:aws:sns:eu-west-1:123456789012:web-monitoring-alarms";
            for (const color of ["blue", "green"]) {
                const common = {
                    namespace: "AWS/ApplicationELB",
                    dimensions: { LoadBalancer: "app/web-alb/abc", TargetGroup: `targetgroup/web-${color}-tg/def` },
                    period: 60,
                    evaluationPeriods: 3,
                    treatMissingData: "notBreaching",
                    alarmActions: [topicArn],
                    okActions: [topicArn],
                    tags: {
                        "switchyard:stack": "prod",
                        "switchyard:service": "web",
                        "switchyard:environment": "production",
                        "switchyard:color": color,
                    },
                };
                const inputs = (suffix: string) => {
                    const { alarmDescription, ...rest } = one(resources, ALARM, `web-monitoring-${color}-${suffix}`).inputs;
                    assert.match(alarmDescription, new RegExp(`^switchyard-prod-web ${color}: .+ for 3 minute\\(s\\)$`));
                    return rest;
                };
                assert.deepEqual(inputs("5xx"), {
                    ...common,
                    name: `switchyard-prod-web-${color}-5xx`,
                    metricName: "HTTPCode_Target_5XX_Count",
                    statistic: "Sum",
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    threshold: 5,
                });
                assert.deepEqual(inputs("unhealthy-hosts"), {
                    ...common,
                    name: `switchyard-prod-web-${color}-unhealthy-hosts`,
                    metricName: "UnHealthyHostCount",
                    statistic: "Maximum",
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    threshold: 1,
                });
                assert.deepEqual(inputs("p99-latency"), {
                    ...common,
                    name: `switchyard-prod-web-${color}-p99-latency`,
                    metricName: "TargetResponseTime",
                    extendedStatistic: "p99",
                    comparisonOperator: "GreaterThanThreshold",
                    threshold: 1.5,
                });
            }
        });

        it("creates a topic with one email subscription for alarms.emails", () => {
            const topic = one(ofType(resources, TOPIC), TOPIC, "web-monitoring-alarms");
            assert.deepEqual(topic.inputs.tags, {
                "switchyard:stack": "prod",
                "switchyard:service": "web",
                "switchyard:environment": "production",
            });
            const subs = ofType(resources, SUBSCRIPTION);
            assert.deepEqual(
                subs.map((s) => s.inputs),
                [{ topic: "arn:aws:sns:eu-west-1:123456789012:web-monitoring-alarms", protocol: "email", endpoint: "oncall@example.com" }],
            );
        });

        it("has one dashboard graphing both colours' requests, 5xx and p99 latency side by side", () => {
            const dashboards = ofType(resources, DASHBOARD);
            assert.equal(dashboards.length, 1);
            assert.equal(dashboards[0].inputs.dashboardName, "switchyard-prod-web");
            const body = JSON.parse(dashboards[0].inputs.dashboardBody);
            assert.deepEqual(
                body.widgets.map((w: any) => [w.properties.title, w.properties.stat, w.properties.region]),
                [
                    ["Requests per minute", "Sum", "eu-west-1"],
                    ["Target 5xx per minute", "Sum", "eu-west-1"],
                    ["p99 response time (s)", "p99", "eu-west-1"],
                ],
            );
            const metric = ["RequestCount", "HTTPCode_Target_5XX_Count", "TargetResponseTime"];
            body.widgets.forEach((w: any, i: number) => {
                assert.deepEqual(
                    w.properties.metrics.map((m: any[]) => [m[1], m[3], m[5], m[6].label]),
                    ["blue", "green"].map((c) => [metric[i], "app/web-alb/abc", `targetgroup/web-${c}-tg/def`, c]),
                );
            });
            assert.deepEqual(body.widgets[2].properties.annotations.horizontal, [{ label: "alarm", value: 1.5 }]);
        });
    });

    it("uses the defaults (10 5xx a minute, 1 unhealthy host, p99 2 s, 3 periods) without switchyard:alarms", async () => {
        const alarms = ofType(await monitor(settings()), ALARM);
        assert.equal(alarms.length, 6);
        const by = (suffix: string) => one(alarms, ALARM, `blue-${suffix}`).inputs;
        assert.deepEqual(
            [by("5xx").threshold, by("unhealthy-hosts").threshold, by("p99-latency").threshold, by("5xx").evaluationPeriods],
            [10, 1, 2, 3],
        );
        assert.deepEqual(by("5xx").dimensions, { LoadBalancer: "app/alb/1", TargetGroup: "targetgroup/blue/2" });
    });

    it("has three alarms for the one fleet of a rolling stack, and a dashboard with that colour", async () => {
        const resources = await monitor(settings({ evaluationPeriods: 5 }), ["green"]);
        assert.deepEqual(
            ofType(resources, ALARM).map((a) => [a.inputs.name, a.inputs.evaluationPeriods]),
            ["5xx", "unhealthy-hosts", "p99-latency"].map((a) => [`switchyard-dev-web-green-${a}`, 5]),
        );
        const body = JSON.parse(one(resources, DASHBOARD, "mon-dashboard").inputs.dashboardBody);
        assert.deepEqual(
            body.widgets[0].properties.metrics.map((m: any[]) => m[6].label),
            ["green"],
        );
    });

    it("notifies an existing topic (alarms.snsTopicArn) without creating one", async () => {
        const arn = "arn:aws:sns:eu-west-1:123456789012:oncall";
        const resources = await monitor(settings({ snsTopicArn: arn }));
        assert.deepEqual(ofType(resources, TOPIC), []);
        assert.deepEqual(ofType(resources, SUBSCRIPTION), []);
        for (const a of ofType(resources, ALARM)) {
            assert.deepEqual([a.inputs.alarmActions, a.inputs.okActions], [[arn], [arn]]);
        }
    });

    it("notifies both the existing topic and the email topic when both are set", async () => {
        const arn = "arn:aws:sns:eu-west-1:123456789012:oncall";
        const resources = await monitor(settings({ snsTopicArn: arn, emails: ["a@example.com", "b@example.com"] }));
        assert.equal(ofType(resources, TOPIC).length, 1);
        assert.deepEqual(
            ofType(resources, SUBSCRIPTION).map((s) => s.inputs.endpoint),
            ["a@example.com", "b@example.com"],
        );
        const actions = one(resources, ALARM, "green-5xx").inputs.alarmActions;
        assert.deepEqual(actions, [arn, "arn:aws:sns:eu-west-1:123456789012:mon-alarms"]);
    });

    it("creates no topic and no actions without snsTopicArn or emails", async () => {
        const resources = await monitor(settings());
        assert.deepEqual(ofType(resources, TOPIC), []);
        assert.deepEqual(ofType(resources, SUBSCRIPTION), []);
        for (const a of ofType(resources, ALARM)) {
            assert.deepEqual([a.inputs.alarmActions, a.inputs.okActions], [[], []]);
        }
    });

    it("exposes each colour's alarm names for the health gate", async () => {
        const m = new Monitoring("names", {
            tags: {},
            namePrefix: "switchyard-my.stack-web",
            loadBalancerArnSuffix: "app/alb/1",
            targetGroupArnSuffixes: { blue: "targetgroup/blue/2" },
            alarms: settings(),
            region: "eu-west-1",
        });
        const names = await Promise.all(m.alarmNames.blue!.map((o) => new Promise((r) => o.apply(r))));
        assert.deepEqual(names, [
            "switchyard-my-stack-web-blue-5xx",
            "switchyard-my-stack-web-blue-unhealthy-hosts",
            "switchyard-my-stack-web-blue-p99-latency",
        ]);
        assert.equal(m.alarmNames.green, undefined);
    });
});
