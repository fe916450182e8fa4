import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import * as assert from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { waitForHealthyTargets } from "../../lib/aws/healthGate";
import { useMoto } from "../helpers/moto";
import { seedStack, startInstances } from "./seed";

/** A virtual clock: `sleep` advances `now` instantly and records each delay. */
function virtualClock(onSleep?: (ms: number, call: number) => Promise<void>) {
    let t = 0;
    const sleeps: number[] = [];
    return {
        sleeps,
        now: () => t,
        sleep: async (ms: number) => {
            sleeps.push(ms);
            t += ms;
            await onSleep?.(ms, sleeps.length);
        },
    };
}

async function putAlarm(name: string, state?: "ALARM" | "OK", reason = "Threshold Crossed: 12 5XX responses"): Promise<void> {
    const cw = new CloudWatchClient({});
    await cw.send(
        new PutMetricAlarmCommand({
            AlarmName: name,
            Namespace: "AWS/ApplicationELB",
            MetricName: "HTTPCode_Target_5XX_Count",
            Statistic: "Sum",
            Period: 60,
            EvaluationPeriods: 1,
            Threshold: 10,
            ComparisonOperator: "GreaterThanThreshold",
        }),
    );
    if (state) await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: reason }));
}

describe("health gate against moto", function () {
    this.timeout(20000);
    const moto = useMoto();

    it("resolves at once when every colour has enough healthy targets", async () => {
        const s = await seedStack(moto.endpoint, {
            stack: "dev",
            weights: { blue: 100, green: 0 },
            testTo: "green",
            targets: { blue: { running: 2 }, green: { running: 3 } },
        });
        const clock = virtualClock();
        const result = await waitForHealthyTargets({
            colors: [
                { color: "blue", targetGroupArn: s.targetGroups.blue, minHealthy: 2 },
                { color: "green", targetGroupArn: s.targetGroups.green, minHealthy: 2 },
            ],
            timeoutSeconds: 60,
            ...clock,
        });
        assert.deepStrictEqual(result.colors, [
            { color: "blue", healthy: 2, required: 2, total: 2 },
            { color: "green", healthy: 3, required: 2, total: 3 },
        ]);
        assert.strictEqual(result.attempts, 1);
        assert.deepStrictEqual(clock.sleeps, []);
    });

    it("times out naming the colour, the counts and the unhealthy reasons, backing off 2 s doubling to 15 s", async () => {
        const s = await seedStack(moto.endpoint, {
            stack: "dev",
            weights: { blue: 100, green: 0 },
            targets: { green: { running: 2, stopped: 1 } },
        });
        const clock = virtualClock();
        await assert.rejects(
            waitForHealthyTargets({
                colors: [{ color: "green", targetGroupArn: s.targetGroups.green, minHealthy: 2 }],
                timeoutSeconds: 60,
                ...clock,
            }),
            { message: "health gate: green has 1 of 2 healthy targets after 60 s (unused: 1 Target.InvalidState)" },
        );
        assert.deepStrictEqual(clock.sleeps, [2000, 4000, 8000, 15000, 15000, 15000, 1000]);
    });

    it("waits for targets that become healthy while it polls", async () => {
        const s = await seedStack(moto.endpoint, {
            stack: "dev",
            weights: { blue: 100, green: 0 },
            targets: { green: { running: 2, stopped: 2 } },
        });
        const clock = virtualClock(async (_ms, call) => {
            if (call === 2) await startInstances(moto.endpoint, s.instances.green);
        });
        const result = await waitForHealthyTargets({
            colors: [{ color: "green", targetGroupArn: s.targetGroups.green, minHealthy: 2 }],
            timeoutSeconds: 60,
            ...clock,
        });
        assert.strictEqual(result.attempts, 3);
        assert.strictEqual(result.elapsedSeconds, 6);
    });

    it("times out when no targets are registered", async () => {
        const s = await seedStack(moto.endpoint, { stack: "dev", weights: { blue: 100, green: 0 } });
        await assert.rejects(
            waitForHealthyTargets({
                colors: [{ color: "green", targetGroupArn: s.targetGroups.green, minHealthy: 2 }],
                timeoutSeconds: 1,
                backoff: { initialMs: 20, maxMs: 100 },
            }),
            { message: "health gate: green has 0 of 2 healthy targets after 1 s (no targets registered)" },
        );
    });

    it("fails at once on a missing target group, naming its ARN", async () => {
        const arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-green-tg/0123456789abcdef";
        const clock = virtualClock();
        await assert.rejects(
            waitForHealthyTargets({ colors: [{ color: "green", targetGroupArn: arn, minHealthy: 1 }], timeoutSeconds: 60, ...clock }),
            {
                message: `health gate: green's target group ${arn} does not exist (is the ARN from another region or account, or was the group deleted?)`,
            },
        );
        assert.deepStrictEqual(clock.sleeps, []);
    });

    it("times out while an alarm of the colour is in ALARM, naming the alarm; an OK alarm does not block", async () => {
        const s = await seedStack(moto.endpoint, { stack: "dev", weights: { blue: 100, green: 0 }, targets: { green: { running: 2 } } });
        await putAlarm("web-green-5xx", "ALARM");
        await putAlarm("web-green-latency", "OK");
        await assert.rejects(
            waitForHealthyTargets({
                colors: [
                    {
                        color: "green",
                        targetGroupArn: s.targetGroups.green,
                        minHealthy: 2,
                        alarmNames: ["web-green-5xx", "web-green-latency"],
                    },
                ],
                timeoutSeconds: 30,
                ...virtualClock(),
            }),
            { message: "health gate: alarm web-green-5xx (green) is in ALARM after 30 s: Threshold Crossed: 12 5XX responses" },
        );
        const ok = await waitForHealthyTargets({
            colors: [{ color: "green", targetGroupArn: s.targetGroups.green, minHealthy: 2, alarmNames: ["web-green-latency"] }],
            timeoutSeconds: 30,
            ...virtualClock(),
        });
        assert.strictEqual(ok.attempts, 1);
    });

    it("fails at once when a named alarm does not exist", async () => {
        const s = await seedStack(moto.endpoint, { stack: "dev", weights: { blue: 100, green: 0 }, targets: { green: { running: 1 } } });
        await assert.rejects(
            waitForHealthyTargets({
                colors: [{ color: "green", targetGroupArn: s.targetGroups.green, minHealthy: 1, alarmNames: ["web-green-typo"] }],
                timeoutSeconds: 30,
                ...virtualClock(),
            }),
            { message: "health gate: alarm web-green-typo (green) not found in CloudWatch; check the alarm names and region" },
        );
    });

    describe("probe through the test listener", () => {
        let server: http.Server;
        let status = 200;
        let url = "";
        before(async () => {
            server = http.createServer((_req, res) => res.writeHead(status).end());
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
        });
        after(() => new Promise<void>((resolve) => server.close(() => resolve())));

        it("passes when the probe answers the expected status and times out naming the status otherwise", async () => {
            const s = await seedStack(moto.endpoint, {
                stack: "dev",
                weights: { blue: 100, green: 0 },
                targets: { green: { running: 1 } },
            });
            const colors = [{ color: "green" as const, targetGroupArn: s.targetGroups.green, minHealthy: 1 }];
            status = 200;
            assert.strictEqual(
                (await waitForHealthyTargets({ colors, timeoutSeconds: 10, probe: { url }, ...virtualClock() })).attempts,
                1,
            );
            status = 503;
            await assert.rejects(waitForHealthyTargets({ colors, timeoutSeconds: 10, probe: { url }, ...virtualClock() }), {
                message: `health gate: probe GET ${url} answered 503, expected 200, after 10 s`,
            });
        });

        it("names the connection error when nothing listens", async () => {
            const s = await seedStack(moto.endpoint, {
                stack: "dev",
                weights: { blue: 100, green: 0 },
                targets: { green: { running: 1 } },
            });
            const closed = await new Promise<number>((resolve) => {
                const tmp = http.createServer();
                tmp.listen(0, "127.0.0.1", () => {
                    const port = (tmp.address() as AddressInfo).port;
                    tmp.close(() => resolve(port));
                });
            });
            const deadUrl = `http://127.0.0.1:${closed}/healthz`;
            await assert.rejects(
                waitForHealthyTargets({
                    colors: [{ color: "green", targetGroupArn: s.targetGroups.green, minHealthy: 1 }],
                    timeoutSeconds: 10,
                    probe: { url: deadUrl },
                    ...virtualClock(),
                }),
                { message: `health gate: probe GET ${deadUrl} failed after 10 s: ECONNREFUSED` },
            );
        });
    });
});
