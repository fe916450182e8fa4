/**
 * `verify --service NAME` on a stack of several services on one edge, against moto: each service's
 * target groups are found by their tags, the shared ALB through them (TargetGroup.LoadBalancerArns:
 * "You can use each target group with only one load balancer", botocore's elbv2 service-2.json),
 * and its weights, candidate and routes are read from its own rules on the shared listeners at the
 * priorities lib/ruleLayout.ts gives them (api: test rule 100, routes 100.., weighted forward 199).
 */
import { ElasticLoadBalancingV2Client, ModifyRuleCommand, DescribeRulesCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import * as assert from "assert";
import { runVerify } from "../../cli/verify";
import { useMoto } from "../helpers/moto";
import { DIGEST, SeedService, removeStackFiles, seedServices, writeStackFile } from "./seed";

const NEW = DIGEST.replace(/a{64}$/, "b".repeat(64));

/** web is the default; api on /api/* with a 10 % canary to green and one header route to green. */
const SERVICES = {
    testAccess: { cidrs: ["203.0.113.0/24"] },
    loadBalancer: { default: "web" },
    services: {
        web: {
            match: { priority: 40000 },
            service: { desiredCount: 2 },
            slots: { blue: { image: DIGEST }, green: { image: NEW } },
            traffic: { live: "blue" },
        },
        api: {
            match: { paths: ["/api/*"], priority: 100 },
            service: { desiredCount: 2 },
            slots: { blue: { image: DIGEST }, green: { image: NEW } },
            traffic: {
                live: "blue",
                canary: { percent: 10 },
                routes: [{ color: "green", priority: 1, header: { name: "x-beta-user", values: ["alice"] } }],
            },
        },
    },
};

const WEB: SeedService = {
    name: "web",
    weights: { blue: 100, green: 0 },
    testTo: "green",
    targets: { blue: { running: 2 } },
};
const API: SeedService = {
    name: "api",
    weights: { blue: 90, green: 10 },
    testTo: "green",
    match: { path: "/api/*", priority: 100 },
    targets: { blue: { running: 2 }, green: { running: 2 } },
    rules: [{ color: "green", priority: 100 }],
};

async function verify(dir: string, service?: string): Promise<{ code: number; lines: string[]; errors: string[] }> {
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await runVerify({ stack: "dev", service, dir, out: (l) => lines.push(l), err: (l) => errors.push(l) });
    return { code, lines, errors };
}

describe("verify --service on a stack of several services (moto)", function () {
    this.timeout(20000);
    const moto = useMoto();
    after(removeStackFiles);

    it("checks api's weights, candidate and routes in its own rules on the shared listeners", async () => {
        await seedServices(moto.endpoint, { stack: "dev", services: [WEB, API] });
        const { code, lines, errors } = await verify(writeStackFile("dev", SERVICES), "api");
        assert.deepStrictEqual(errors, []);
        assert.deepStrictEqual(lines, [
            "stack dev, service api, load balancer edge-alb (eu-west-1); live blue",
            "colour | expected weight | actual weight | healthy/required | test listener",
            "-------|-----------------|---------------|------------------|--------------",
            "blue   | 90%             | 90%           | 2/2              | no",
            "green  | 10%             | 10%           | 2/2              | yes",
            "production listener rules match traffic.routes (1)",
            "in sync: AWS matches the stack file",
        ]);
        assert.strictEqual(code, 0);
    });

    it("checks web (the default) in the listeners' default actions, not reading api's rules as its own", async () => {
        await seedServices(moto.endpoint, { stack: "dev", services: [WEB, API] });
        const { code, lines } = await verify(writeStackFile("dev", SERVICES), "web");
        assert.deepStrictEqual(lines, [
            "stack dev, service web, load balancer edge-alb (eu-west-1); live blue",
            "colour | expected weight | actual weight | healthy/required | test listener",
            "-------|-----------------|---------------|------------------|--------------",
            "blue   | 100%            | 100%          | 2/2              | no",
            "green  | 0%              | 0%            | 0/-              | yes",
            "production listener rules match traffic.routes (0)",
            "in sync: AWS matches the stack file",
        ]);
        assert.strictEqual(code, 0);
    });

    it("exits 1 when api's weighted forward rule differs, and web stays in sync", async () => {
        const seeded = await seedServices(moto.endpoint, { stack: "dev", services: [WEB, API] });
        const elb = new ElasticLoadBalancingV2Client({});
        const rules = await elb.send(new DescribeRulesCommand({ ListenerArn: seeded.productionListenerArn }));
        const forward = rules.Rules!.find((r) => r.Priority === "199")!;
        await elb.send(
            new ModifyRuleCommand({
                RuleArn: forward.RuleArn,
                Actions: [
                    {
                        Type: "forward",
                        ForwardConfig: {
                            TargetGroups: [
                                { TargetGroupArn: seeded.targetGroups.api.blue, Weight: 100 },
                                { TargetGroupArn: seeded.targetGroups.api.green, Weight: 0 },
                            ],
                        },
                    },
                ],
            }),
        );
        const dir = writeStackFile("dev", SERVICES);
        const api = await verify(dir, "api");
        assert.strictEqual(api.code, 1);
        assert.ok(
            api.lines.includes(
                "✗ production weights differ: AWS has blue 100, green 0, the stack file says blue 90, green 10: " +
                    "either the stack file was edited and not applied yet (pulumi up applies it) or someone changed the listener outside Pulumi (pulumi up restores it)",
            ),
            api.lines.join("\n"),
        );
        assert.strictEqual((await verify(dir, "web")).code, 0);
    });

    it("exits 2 without --service, listing the services, and with a service the stack does not have", async () => {
        const dir = writeStackFile("dev", SERVICES);
        const missing = await verify(dir);
        assert.deepStrictEqual(missing, {
            code: 2,
            lines: [],
            errors: ["switchyard: stack dev has 2 services (web, api): verify needs --service NAME, one of web, api"],
        });
        const unknown = await verify(dir, "worker");
        assert.deepStrictEqual(unknown, {
            code: 2,
            lines: [],
            errors: ["switchyard: --service worker: stack dev has no service worker; its services are web, api"],
        });
    });
});
