/**
 * Every AWS call has a timeout (lib/aws/clients.ts), and the health gate fails at its deadline,
 * against a frozen endpoint: a local TCP server that accepts connections and never answers.
 * Before the clients had timeouts, a call against it never settled: the SDK's NodeHttpHandler
 * has no timeout by default, and its requestTimeout only warns unless throwOnRequestTimeout is
 * set (node_modules/@smithy/types/dist-types/http/httpHandlerInitialization.d.ts).
 */
import { strict as assert } from "node:assert";
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { cloudwatchClient } from "../../lib/aws/clients";
import { awsCall } from "../../lib/aws/errors";
import { LAST_POLL_GRACE_MS, waitForHealthyTargets } from "../../lib/aws/healthGate";
import { FrozenEndpoint, frozenEndpoint } from "../helpers/frozen";

// The SDK warns once per process about Node 20 (test/helpers/moto.ts says why); keep the output quiet.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const ENV = { AWS_ENDPOINT_URL: "", AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };

describe("AWS call timeouts against a frozen endpoint (lib/aws/clients.ts)", function () {
    this.timeout(20000);
    let frozen: FrozenEndpoint;
    let saved: Record<string, string | undefined>;
    beforeEach(async () => {
        frozen = await frozenEndpoint();
        saved = Object.fromEntries(Object.keys(ENV).map((k) => [k, process.env[k]]));
        Object.assign(process.env, { ...ENV, AWS_ENDPOINT_URL: frozen.endpoint });
    });
    afterEach(async () => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
        await frozen.close();
    });

    it("a call ends with CallTimeout at callMs, retries included, naming the API", async () => {
        const client = cloudwatchClient("eu-west-1", { connectMs: 200, attemptMs: 300, callMs: 700 });
        const started = Date.now();
        try {
            await assert.rejects(
                awsCall("cloudwatch:DescribeAlarms", () => client.send(new DescribeAlarmsCommand({}))),
                (e: Error) => {
                    assert.equal(
                        e.message,
                        "cloudwatch:DescribeAlarms failed (CallTimeout): no answer within 0.7 s (the endpoint is unreachable or hung)",
                    );
                    return true;
                },
            );
            const elapsed = Date.now() - started;
            assert.ok(elapsed >= 650 && elapsed < 1200, `ended after ${elapsed} ms`);
            assert.ok(frozen.firstSwallowedAt !== undefined, "the request reached the frozen endpoint");
        } finally {
            client.destroy();
        }
    });

    it("the health gate fails at its deadline while its first DescribeTargetHealth is still unanswered", async () => {
        const started = Date.now();
        await assert.rejects(
            // Clients built by the gate itself, with the default timeouts (10 s per call): only the deadline ends it.
            waitForHealthyTargets({
                colors: [
                    {
                        color: "green",
                        targetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/g/1",
                        minHealthy: 1,
                    },
                ],
                timeoutSeconds: 2,
                region: "eu-west-1",
            }),
            { message: "health gate: AWS had not answered poll 1 when the gate timed out after 2 s" },
        );
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= 1950 && elapsed < 2000 + LAST_POLL_GRACE_MS, `failed after ${elapsed} ms`);
    });
});
