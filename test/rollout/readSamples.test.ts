/**
 * The AWS calls of one poll of a train stay bounded (issue 17 item 4): readSamples batches every
 * member into one GetMetricData (up to 500 queries: botocore data/cloudwatch/2010-08-01/service-2.json,
 * MetricDataQueries "as many as 500") and one DescribeAlarms (AlarmNames max 100, same file). The
 * client answers from a middleware, so the calls are counted without AWS.
 */
import { strict as assert } from "node:assert";
import { CloudWatchClient, DescribeAlarmsCommandInput, GetMetricDataCommandInput } from "@aws-sdk/client-cloudwatch";
import { MEMBERS_PER_CALL, QUERIES_PER_SERVICE, Watch, readSamples } from "../../lib/aws/analysis";

function countingClient() {
    const calls: { metrics: number[]; alarms: number[] } = { metrics: [], alarms: [] };
    const client = new CloudWatchClient({ region: "eu-west-1", credentials: { accessKeyId: "x", secretAccessKey: "y" } });
    client.middlewareStack.add(
        () => async (args) => {
            const input = args.input as GetMetricDataCommandInput & DescribeAlarmsCommandInput;
            if (input.MetricDataQueries) {
                calls.metrics.push(input.MetricDataQueries.length);
                return { output: { MetricDataResults: [], $metadata: {} }, response: {} };
            }
            calls.alarms.push(input.AlarmNames!.length);
            return { output: { MetricAlarms: [], $metadata: {} }, response: {} };
        },
        { step: "initialize" },
    );
    return { client, calls };
}

const watches = (n: number): Watch[] =>
    Array.from({ length: n }, (_, i) => ({
        targets: { loadBalancer: "app/edge/1", targetGroups: { blue: `targetgroup/s${i}-blue/1`, green: `targetgroup/s${i}-green/1` } },
        stack: "dev",
        service: `s${i}`,
        watched: "green",
        baseline: "blue",
    }));

describe("readSamples: the AWS calls of one poll of a train", () => {
    it("the limits: 10 queries per service, 33 services per call (DescribeAlarms' 100 names bind before GetMetricData's 500 queries)", () => {
        assert.equal(QUERIES_PER_SERVICE, 10);
        assert.equal(MEMBERS_PER_CALL, 33);
    });

    it("10 members: one GetMetricData with 100 queries and one DescribeAlarms with 30 names", async () => {
        const { client, calls } = countingClient();
        const samples = await readSamples({ cloudwatch: client }, watches(10), { sinceMs: 0, nowMs: 120_000 });
        assert.equal(samples.length, 10);
        assert.deepEqual(calls, { metrics: [100], alarms: [30] });
    });

    it("34 members: two of each, split at 33", async () => {
        const { client, calls } = countingClient();
        await readSamples({ cloudwatch: client }, watches(34), { sinceMs: 0, nowMs: 120_000 });
        assert.deepEqual(calls, { metrics: [330, 10], alarms: [99, 3] });
    });
});
