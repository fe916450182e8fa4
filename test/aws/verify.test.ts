import { ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import * as assert from "assert";
import * as os from "os";
import * as path from "path";
import { runVerify } from "../../cli/verify";
import { weightShares } from "../../lib/verify";
import { motoApi, queryApi, useMoto, xmlValues } from "../helpers/moto";
import { DIGEST, removeStackFiles, seedStack, writeStackFile } from "./seed";

// The stack files here are not in git, so verify cannot tell an edit not applied yet from a change
// outside Pulumi, and says both (test/aws/verifyApplied.test.ts has the cases with history).
const DRIFT =
    "either the stack file was edited and not applied yet (pulumi up applies it) or someone changed the listener outside Pulumi (pulumi up restores it)";

/** A valid stack: blue live with a 10 % green canary and one header route to green. */
const STACK = {
    service: { name: "web", desiredCount: 2 },
    slots: { blue: { image: DIGEST }, green: { image: DIGEST } },
    traffic: { live: "blue", canary: { percent: 10 }, routes: [{ color: "green", header: { name: "x-beta-user", values: ["alice"] } }] },
    testAccess: { cidrs: ["10.0.0.0/8"] },
};
const IN_SYNC = {
    stack: "dev",
    weights: { blue: 90, green: 10 },
    testTo: "green" as const,
    targets: { blue: { running: 2 }, green: { running: 2 } },
    rules: [{ color: "green" as const, priority: 1 }],
};

/** Runs verify; `lines` is what it printed on stdout, `errors` on stderr. */
async function verify(dir: string, stack = "dev"): Promise<{ code: number; lines: string[]; errors: string[] }> {
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await runVerify({ stack, dir, out: (l) => lines.push(l), err: (l) => errors.push(l) });
    return { code, lines, errors };
}

describe("verify against moto", function () {
    this.timeout(20000);
    const moto = useMoto();
    after(removeStackFiles);

    it("exits 0 and prints the table when AWS matches the stack file", async () => {
        await seedStack(moto.endpoint, IN_SYNC);
        const { code, lines } = await verify(writeStackFile("dev", STACK));
        assert.deepStrictEqual(lines.slice(1, 5), [
            "colour | expected weight | actual weight | healthy/required | test listener",
            "-------|-----------------|---------------|------------------|--------------",
            "blue   | 90%             | 90%           | 2/2              | no",
            "green  | 10%             | 10%           | 2/2              | yes",
        ]);
        assert.match(lines[0], /^stack dev, service web, load balancer web-alb \(eu-west-1\); live blue$/);
        assert.ok(lines.includes("production listener rules match traffic.routes (1)"), lines.join("\n"));
        assert.strictEqual(lines.at(-1), "in sync: AWS matches the stack file");
        assert.strictEqual(code, 0);
    });

    it("reads the weights from the forwarding production listener, not the HTTP-to-HTTPS redirect one", async () => {
        await seedStack(moto.endpoint, { ...IN_SYNC, redirectListener: true });
        const { code, lines } = await verify(writeStackFile("dev", STACK));
        assert.strictEqual(lines.at(-1), "in sync: AWS matches the stack file", lines.join("\n"));
        assert.strictEqual(code, 0);
    });

    it("exits 1 on weight drift made outside Pulumi", async () => {
        const s = await seedStack(moto.endpoint, IN_SYNC);
        await new ElasticLoadBalancingV2Client({}).send(
            new ModifyListenerCommand({
                ListenerArn: s.productionListenerArn,
                DefaultActions: [
                    {
                        Type: "forward",
                        ForwardConfig: {
                            TargetGroups: [
                                { TargetGroupArn: s.targetGroups.blue, Weight: 50 },
                                { TargetGroupArn: s.targetGroups.green, Weight: 50 },
                            ],
                        },
                    },
                ],
            }),
        );
        const { code, lines } = await verify(writeStackFile("dev", STACK));
        assert.strictEqual(code, 1);
        assert.ok(lines.includes("blue   | 90%             | 50% ✗         | 2/2              | no"), lines.join("\n"));
        assert.ok(
            lines.includes(`✗ production weights differ: AWS has blue 50, green 50, the stack file says blue 90, green 10: ${DRIFT}`),
            lines.join("\n"),
        );
    });

    it("exits 1 when the test listener forwards to the live colour", async () => {
        await seedStack(moto.endpoint, { ...IN_SYNC, testTo: "blue" });
        const { code, lines } = await verify(writeStackFile("dev", STACK));
        assert.strictEqual(code, 1);
        assert.ok(
            lines.includes(
                "✗ the test listener forwards to blue, but the candidate is green (live is blue): testers would not reach the candidate; run pulumi up to restore it",
            ),
            lines.join("\n"),
        );
        assert.ok(
            lines.some((l) => l.startsWith("blue ") && l.endsWith("yes ✗ (expected no)")),
            lines.join("\n"),
        );
    });

    it("exits 1 when a colour with traffic has too few healthy targets", async () => {
        await seedStack(moto.endpoint, { ...IN_SYNC, targets: { blue: { running: 2 }, green: { running: 2, stopped: 1 } } });
        const { code, lines } = await verify(writeStackFile("dev", STACK));
        assert.strictEqual(code, 1);
        assert.ok(lines.includes("✗ green receives traffic but has 1 of 2 healthy targets (service.minHealthyTargets)"), lines.join("\n"));
        assert.ok(lines.includes("green  | 10%             | 10%           | 1/2 ✗            | yes"), lines.join("\n"));
    });

    it("does not require healthy targets of a colour without traffic", async () => {
        await seedStack(moto.endpoint, { ...IN_SYNC, weights: { blue: 100, green: 0 }, rules: [], targets: { blue: { running: 2 } } });
        const { code, lines } = await verify(writeStackFile("dev", { ...STACK, traffic: { live: "blue" } }));
        assert.ok(lines.includes("green  | 0%              | 0%            | 0/-              | yes"), lines.join("\n"));
        assert.strictEqual(code, 0, lines.join("\n"));
    });

    it("exits 1 when the listener rules do not match traffic.routes", async () => {
        await seedStack(moto.endpoint, { ...IN_SYNC, rules: [] });
        const { code, lines } = await verify(writeStackFile("dev", STACK));
        assert.strictEqual(code, 1);
        assert.ok(
            lines.includes(`✗ production listener rules differ: AWS has 0 rule(s) [], the stack file has 1 route(s) [green]: ${DRIFT}`),
            lines.join("\n"),
        );
    });

    it("exits 2 when nothing is tagged for the stack", async () => {
        await seedStack(moto.endpoint, { ...IN_SYNC, stack: "staging" });
        const { code, lines, errors } = await verify(writeStackFile("dev", STACK));
        assert.deepStrictEqual(lines, []);
        assert.deepStrictEqual(errors, [
            "switchyard: nothing found: no load balancer is tagged switchyard:stack=dev switchyard:service=web; has `pulumi up` run for stack dev in region eu-west-1?",
        ]);
        assert.strictEqual(code, 2);
    });

    it("exits 2 when the stack file is missing", async () => {
        const dir = writeStackFile("dev", STACK);
        const { code, lines, errors } = await verify(dir, "prod");
        assert.deepStrictEqual(lines, []);
        assert.deepStrictEqual(errors, [
            `switchyard: no stack file ${path.join(dir, "Pulumi.prod.yaml")}; check --stack and --dir (the directory holding Pulumi.<stack>.yaml)`,
        ]);
        assert.strictEqual(code, 2);
    });

    it("exits 2 with the ConfigError message when the config is invalid", async () => {
        const dir = writeStackFile("dev", { ...STACK, traffic: { live: "blue", canary: { percent: 150 } } });
        const { code, lines, errors } = await verify(dir);
        assert.strictEqual(code, 2);
        assert.deepStrictEqual(lines, []);
        assert.strictEqual(errors.length, 1);
        assert.strictEqual(
            errors[0],
            "switchyard: the stack configuration has 1 problem:\n  - switchyard:traffic.canary.percent must be a whole number 1..99 (got 150)",
        );
    });

    it("exits 2 naming the missing credentials", async () => {
        const saved = { ...process.env };
        delete process.env.AWS_ACCESS_KEY_ID;
        delete process.env.AWS_SECRET_ACCESS_KEY;
        Object.assign(process.env, {
            AWS_SHARED_CREDENTIALS_FILE: path.join(os.tmpdir(), "switchyard-no-credentials"),
            AWS_CONFIG_FILE: path.join(os.tmpdir(), "switchyard-no-config"),
            AWS_EC2_METADATA_DISABLED: "true",
        });
        try {
            const { code, lines, errors } = await verify(writeStackFile("dev", STACK));
            assert.deepStrictEqual(lines, []);
            assert.deepStrictEqual(errors, [
                "switchyard: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), then retry (elasticloadbalancing:DescribeTargetGroups could not sign its request)",
            ]);
            assert.strictEqual(code, 2);
        } finally {
            for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
            Object.assign(process.env, saved);
        }
    });

    it("exits 2 naming the API call AWS refused", async () => {
        await seedStack(moto.endpoint, IN_SYNC);
        // An IAM user without policies; then switch moto's IAM enforcement on for every request.
        await queryApi(moto.endpoint, "iam", { Action: "CreateUser", UserName: "reader" });
        const key = await queryApi(moto.endpoint, "iam", { Action: "CreateAccessKey", UserName: "reader" });
        const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
        process.env.AWS_ACCESS_KEY_ID = xmlValues(key, "AccessKeyId")[0];
        process.env.AWS_SECRET_ACCESS_KEY = xmlValues(key, "SecretAccessKey")[0];
        await motoApi(moto.endpoint, "reset-auth", "0");
        try {
            const { code, lines, errors } = await verify(writeStackFile("dev", STACK));
            assert.strictEqual(code, 2);
            assert.deepStrictEqual(lines, []);
            assert.strictEqual(errors.length, 1);
            assert.match(
                errors[0],
                /^switchyard: AWS refused elasticloadbalancing:DescribeTargetGroups \(AccessDenied\): grant the caller elasticloadbalancing:DescribeTargetGroups permission\./,
            );
        } finally {
            await motoApi(moto.endpoint, "reset-auth", "inf");
            process.env.AWS_ACCESS_KEY_ID = saved.id;
            process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
        }
    });
});

describe("verify: weight shares", () => {
    it("reads raw ALB weights as shares of their sum and counts unknown target groups apart", () => {
        assert.deepStrictEqual(
            weightShares([
                { targetGroupArn: "b", color: "blue", weight: 1 },
                { targetGroupArn: "g", color: "green", weight: 1 },
            ]),
            { shares: { blue: 50, green: 50 }, other: 0 },
        );
        assert.deepStrictEqual(
            weightShares([
                { targetGroupArn: "b", color: "blue", weight: 90 },
                { targetGroupArn: "x", color: undefined, weight: 10 },
            ]),
            { shares: { blue: 90, green: 0 }, other: 10 },
        );
    });
});
