/**
 * Deliberately bad inputs, one or more per rule: each policy fires, with a message that names
 * the resource and says how to fix it. Where a bad input can be reached through a stack file,
 * it is produced that way (the policy then guards what lib/config.ts lets through); otherwise a
 * recorded resource of the shipped stacks is changed.
 */
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import { strict as assert } from "node:assert";
import {
    ecrImmutableAndScanned,
    ecsCircuitBreaker,
    imagesPinnedByDigest,
    policies,
    productionAlbHardening,
    productionWeightsSumTo100,
    targetGroupHealthCheck,
    testListenerNotPublic,
} from "../../policy/policies";
import { Recorded } from "../helpers/mocks";
import { evaluate, stackFileConfig } from "../helpers/program";
import { messages, replacing, runPolicies } from "./helpers";

const REPO = "aws:ecr/repository:Repository";
const TASK = "aws:ecs/taskDefinition:TaskDefinition";
const LISTENER = "aws:lb/listener:Listener";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const SERVICE = "aws:ecs/service:Service";
const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";

const TEST_ACCESS_FIX =
    "the test listener serves untested builds and must be reachable only from switchyard:testAccess.cidrs: " +
    "remove 0.0.0.0/0 and list the public range of your VPN, office or CI runner (e.g. 203.0.113.0/24)";

describe("policy pack: violations", () => {
    let prod: Recorded[];
    let dev: Recorded[];

    before(async () => {
        prod = (await evaluate("prod", stackFileConfig("prod"))).resources;
        dev = (await evaluate("dev", stackFileConfig("dev"))).resources;
    });

    describe("1. images pinned by digest", () => {
        it("fires on a tag-pinned image, naming the task definition, container and image", async () => {
            const bad = replacing(prod, TASK, "web-blue-task", (inputs) => {
                const containers = JSON.parse(inputs.containerDefinitions);
                containers[0].image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v1";
                inputs.containerDefinitions = JSON.stringify(containers);
            });
            const run = await runPolicies(policies, bad);
            assert.deepEqual(
                run.violations.map((v) => [v.policy, v.enforcementLevel]),
                [[imagesPinnedByDigest.name, "mandatory"]],
            );
            assert.deepEqual(messages(run), [
                `task definition web-blue-task: container app uses image "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:v1", which is not pinned by digest; ` +
                    "use <repo>@sha256:<64 hex digits> (switchyard:slots.<color>.image), because tags such as :latest can be moved to another build",
            ]);
        });

        it("fires on a digest that is not 64 hex digits", async () => {
            const bad = replacing(prod, TASK, "web-blue-task", (inputs) => {
                inputs.containerDefinitions = inputs.containerDefinitions.replace(/@sha256:0+/, "@sha256:abc");
            });
            const run = await runPolicies([imagesPinnedByDigest], bad);
            assert.equal(run.violations.length, 1);
            assert.match(
                run.violations[0].message,
                /^task definition web-blue-task: container app uses image ".*\/web@sha256:abc", which is not pinned by digest/,
            );
        });
    });

    describe("2. ECR immutable and scanned", () => {
        it("fires on a MUTABLE repository that does not scan on push", async () => {
            const bad = replacing(prod, REPO, "web-image-repo", (inputs) => {
                inputs.imageTagMutability = "MUTABLE";
                inputs.imageScanningConfiguration = { scanOnPush: false };
            });
            const run = await runPolicies(policies, bad);
            assert.deepEqual(messages(run), [
                'ECR repository web-image-repo: imageTagMutability is MUTABLE; set imageTagMutability: "IMMUTABLE" so a pushed tag can never point at a different image',
                "ECR repository web-image-repo: images are not scanned on push; set imageScanningConfiguration: { scanOnPush: true }",
            ]);
            assert.deepEqual(new Set(run.violations.map((v) => v.policy)), new Set([ecrImmutableAndScanned.name]));
        });

        it("treats an unset mutability as AWS does: MUTABLE", async () => {
            const bad = replacing(prod, REPO, "web-image-repo", (inputs) => delete inputs.imageTagMutability);
            const run = await runPolicies([ecrImmutableAndScanned], bad);
            assert.deepEqual(messages(run), [
                'ECR repository web-image-repo: imageTagMutability is unset (MUTABLE); set imageTagMutability: "IMMUTABLE" so a pushed tag can never point at a different image',
            ]);
        });
    });

    describe("3. test listener never open to the world", () => {
        it("fires when a dev stack file opens the test listener to 0.0.0.0/0 (lib/config.ts allows it outside production)", async () => {
            const config = stackFileConfig("dev");
            const resources = (await evaluate("dev", { ...config, "switchyard:testAccess": { cidrs: ["0.0.0.0/0"], port: 9000 } }))
                .resources;
            const run = await runPolicies(policies, resources);
            assert.deepEqual(messages(run), [
                "security group web-alb: ingress rule #1 (test listener: allow-listed testers only) allows 0.0.0.0/0 to reach " +
                    `port 9000, the port of test listener web-test-listener; ${TEST_ACCESS_FIX}`,
            ]);
            assert.equal(run.violations[0].policy, testListenerNotPublic.name);
            assert.match(run.violations[0].urn!, /aws:ec2\/securityGroup:SecurityGroup::web-alb$/);
        });

        it("fires on ::/0 in a separate ingress-rule resource attached to the ALB's security group", async () => {
            const alb = dev.find((r) => r.type === SECURITY_GROUP && r.name === "web-alb")!;
            const rule: Recorded = {
                type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                name: "testers-v6",
                urn: "urn:pulumi:dev::switchyard::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::testers-v6",
                inputs: { securityGroupId: "web-alb-id", ipProtocol: "tcp", fromPort: 9000, toPort: 9000, cidrIpv6: "::/0" },
                dependencies: [alb.urn],
                custom: true,
                aliasNames: [],
                aliasUrns: [],
                parent: "",
            };
            const run = await runPolicies([testListenerNotPublic], [...dev, rule]);
            assert.deepEqual(messages(run), [
                "security group web-alb: ingress rule testers-v6 allows ::/0 to reach port 9000, the port of test listener web-test-listener; " +
                    "the test listener serves untested builds and must be reachable only from switchyard:testAccess.cidrs: " +
                    "remove ::/0 and list the public range of your VPN, office or CI runner (e.g. 203.0.113.0/24)",
            ]);
        });

        it("fires on any other non-80/443 port the ALB's security group opens to the world", async () => {
            const bad = replacing(dev, SECURITY_GROUP, "web-alb", (inputs) => {
                inputs.ingress.push({ protocol: "tcp", fromPort: 8000, toPort: 8100, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] });
            });
            const run = await runPolicies([testListenerNotPublic], bad);
            assert.deepEqual(messages(run), [
                "security group web-alb: ingress rule #2 allows 0.0.0.0/0 and ::/0 to reach ports 8000-8100, a port other than 80/443 on a load balancer; " +
                    "the test listener serves untested builds and must be reachable only from switchyard:testAccess.cidrs: " +
                    "remove 0.0.0.0/0 and ::/0 and list the public range of your VPN, office or CI runner (e.g. 203.0.113.0/24)",
            ]);
        });

        it("ignores world-open ingress on a security group that is neither the ALB's nor on a test port", async () => {
            const fine = replacing(dev, SECURITY_GROUP, "web-blue-tasks", (inputs) => {
                inputs.ingress.push({ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] });
            });
            const run = await runPolicies([testListenerNotPublic], fine);
            assert.deepEqual(run.violations, []);
        });
    });

    describe("4. production ALB hardening", () => {
        it("fires on a prod-tagged ALB without deletion protection (switchyard:environment: development in Pulumi.prod.yaml)", async () => {
            const config = { ...stackFileConfig("prod"), "switchyard:environment": "development" };
            const resources = (await evaluate("prod", config)).resources;
            const run = await runPolicies(policies, resources);
            assert.deepEqual(messages(run), [
                "load balancer web-alb is production (tag switchyard:stack=prod) but enableDeletionProtection is not true; " +
                    "set enableDeletionProtection: true (switchyard does when switchyard:environment is production) so it cannot be deleted by accident",
            ]);
            assert.equal(run.violations[0].policy, productionAlbHardening.name);
        });

        it("fires on a production listener on HTTP 80 that forwards (prod stack without switchyard:https)", async () => {
            const config: Record<string, unknown> = { ...stackFileConfig("prod") };
            delete config["switchyard:https"];
            const resources = (await evaluate("prod", config)).resources;
            const run = await runPolicies(policies, resources);
            assert.deepEqual(messages(run), [
                "production listener web-prod-listener is production (tag switchyard:environment=production) but listens on HTTP:80 " +
                    "with default action forward; production traffic must use HTTPS on 443 and port 80 may only redirect to HTTPS: " +
                    "set switchyard:https.certificateArn to an ACM certificate",
            ]);
            assert.equal(run.violations[0].policy, productionAlbHardening.name);
        });

        it("knows a production stack by its switchyard:environment tag, whatever the stack is called", async () => {
            const config: Record<string, unknown> = { ...stackFileConfig("prod") };
            delete config["switchyard:https"];
            const resources = (await evaluate("eu-live", config)).resources;
            const run = await runPolicies(policies, resources);
            assert.deepEqual(
                run.violations.map((v) => v.policy),
                [productionAlbHardening.name],
            );
            assert.match(
                messages(run)[0],
                /^production listener web-prod-listener is production \(tag switchyard:environment=production\)/,
            );
        });

        it("fires when the port-80 listener forwards instead of redirecting", async () => {
            const bad = replacing(prod, LISTENER, "web-http-redirect", (inputs) => {
                inputs.defaultActions = [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "200" } }];
            });
            const run = await runPolicies([productionAlbHardening], bad);
            assert.deepEqual(messages(run), [
                "production listener web-http-redirect is production (tag switchyard:environment=production) but listens on HTTP:80 " +
                    "with default action fixed-response; production traffic must use HTTPS on 443 and port 80 may only redirect to HTTPS: " +
                    "set switchyard:https.certificateArn to an ACM certificate",
            ]);
        });
    });

    describe("5. production weights sum to 100", () => {
        it("fires on weights 90 + 20", async () => {
            const bad = replacing(prod, LISTENER, "web-prod-listener", (inputs) => {
                inputs.defaultActions[0].forward.targetGroups[0].weight = 90;
                inputs.defaultActions[0].forward.targetGroups[1].weight = 20;
            });
            const run = await runPolicies(policies, bad);
            assert.deepEqual(
                run.violations.map((v) => [v.policy, v.message]),
                [
                    [
                        productionWeightsSumTo100.name,
                        "production listener web-prod-listener forwards with weights web-blue-tg 90 + web-green-tg 20 = 110; " +
                            "each weight must be a whole number 0..100 and together they must be 100: fix switchyard:traffic (live, canary.percent) rather than the listener",
                    ],
                ],
            );
        });

        it("fires on a weight outside 0..100 even when the sum is 100", async () => {
            const bad = replacing(prod, LISTENER, "web-prod-listener", (inputs) => {
                inputs.defaultActions[0].forward.targetGroups[0].weight = 150;
                inputs.defaultActions[0].forward.targetGroups[1].weight = -50;
            });
            const run = await runPolicies([productionWeightsSumTo100], bad);
            assert.equal(run.violations.length, 1);
            assert.match(
                run.violations[0].message,
                /weights web-blue-tg 150 \+ web-green-tg -50 = 100; each weight must be a whole number 0\.\.100/,
            );
        });

        it("still checks the weights in a preview, where new target groups' ARNs are unknown", async () => {
            // The value the engine sends for an unknown string (@pulumi/policy's proxy throws on reading it).
            const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
            assert.throws(() => unknownCheckingProxy({ arn: UNKNOWN }).arn, UnknownValueError);
            const preview = (w: [number, number]) =>
                replacing(prod, LISTENER, "web-prod-listener", (inputs) => {
                    inputs.defaultActions[0].forward.targetGroups.forEach((g: any, i: number) =>
                        Object.assign(g, { arn: UNKNOWN, weight: w[i] }),
                    );
                });
            assert.deepEqual((await runPolicies([productionWeightsSumTo100], preview([100, 0]))).violations, []);
            assert.deepEqual(messages(await runPolicies([productionWeightsSumTo100], preview([90, 20]))), [
                "production listener web-prod-listener forwards with weights target group 1 90 + target group 2 20 = 110; " +
                    "each weight must be a whole number 0..100 and together they must be 100: fix switchyard:traffic (live, canary.percent) rather than the listener",
            ]);
        });

        it("leaves the test listener's weights alone (it is not production)", async () => {
            const other = replacing(prod, LISTENER, "web-test-listener", (inputs) => {
                inputs.defaultActions[0].forward.targetGroups[0].weight = 1;
            });
            assert.deepEqual((await runPolicies([productionWeightsSumTo100], other)).violations, []);
        });
    });

    describe("6. target groups health-checked", () => {
        it("fires on a target group without health check, one disabled, and one without a path", async () => {
            let bad = replacing(prod, TARGET_GROUP, "web-blue-tg", (inputs) => delete inputs.healthCheck);
            bad = replacing(bad, TARGET_GROUP, "web-green-tg", (inputs) => (inputs.healthCheck.enabled = false));
            const run = await runPolicies(policies, bad);
            const fix = 'set healthCheck: { enabled: true, path: "/healthz" } (switchyard:service.healthCheckPath)';
            assert.deepEqual(messages(run, targetGroupHealthCheck.name), [
                `target group web-blue-tg has no health check; ${fix}`,
                `target group web-green-tg has its health check disabled; ${fix}`,
            ]);
            assert.equal(run.violations.length, 2);

            const noPath = replacing(prod, TARGET_GROUP, "web-blue-tg", (inputs) => delete inputs.healthCheck.path);
            assert.deepEqual(messages(await runPolicies([targetGroupHealthCheck], noPath)), [
                `target group web-blue-tg health-checks without a path; ${fix}`,
            ]);
        });
    });

    describe("advisory: ECS deployment circuit breaker", () => {
        it("advises when a service has no circuit breaker with rollback", async () => {
            const bad = replacing(
                prod,
                SERVICE,
                "web-blue-svc",
                (inputs) => (inputs.deploymentCircuitBreaker = { enable: true, rollback: false }),
            );
            const run = await runPolicies(policies, bad);
            assert.deepEqual(run.violations, [
                {
                    policy: ecsCircuitBreaker.name,
                    enforcementLevel: "advisory",
                    message:
                        "ECS service web-blue-svc has no deployment circuit breaker with rollback; " +
                        "set deploymentCircuitBreaker: { enable: true, rollback: true } so a deployment whose tasks keep failing rolls back",
                    urn: prod.find((r) => r.type === SERVICE)!.urn,
                },
            ]);
        });
    });
});
