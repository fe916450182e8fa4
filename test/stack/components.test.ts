/** Exact inputs of the components: weights, ports, health checks, tags, security groups, routes. */
import { strict as assert } from "node:assert";
import { baseRaw, digest, stackConfig } from "../helpers/configs";
import { evaluate, ofType, one } from "../helpers/program";
import { Recorded, registered } from "../helpers/mocks";

const LISTENER = "aws:lb/listener:Listener";
const TG_ARN = (c: string) => `arn:aws:lb:eu-west-1:123456789012:web-${c}-tg`;
const run = (raw: Record<string, any>) => evaluate("dev", stackConfig(raw));
const depsOf = (r: Recorded, all: Recorded[]) => r.dependencies.map((urn) => all.find((x) => x.urn === urn)?.name);

function canaryRaw(): Record<string, any> {
    const raw = baseRaw();
    raw.slots.green = { image: digest("b") };
    raw.traffic.canary = { percent: 10, stickiness: 3600 };
    return raw;
}

describe("components", () => {
    describe("TrafficSwitch", () => {
        it("forwards production traffic with the canary weights and group stickiness", async () => {
            const { resources } = await run(canaryRaw());
            const listener = one(resources, LISTENER, "web-prod-listener");
            assert.equal(listener.inputs.port, 80);
            assert.equal(listener.inputs.protocol, "HTTP");
            assert.deepEqual(listener.inputs.defaultActions, [
                {
                    type: "forward",
                    forward: {
                        targetGroups: [
                            { arn: TG_ARN("blue"), weight: 90 },
                            { arn: TG_ARN("green"), weight: 10 },
                        ],
                        stickiness: { enabled: true, duration: 3600 },
                    },
                },
            ]);
            assert.deepEqual(listener.inputs.tags, {
                "switchyard:stack": "dev",
                "switchyard:service": "web",
                "switchyard:environment": "development",
                "switchyard:role": "production",
            });
        });

        it("points the test listener at the candidate, keeping the live target group attached at weight 0", async () => {
            const { resources } = await run(canaryRaw());
            const test = one(resources, LISTENER, "web-test-listener");
            assert.equal(test.inputs.port, 9000);
            assert.deepEqual(test.inputs.defaultActions[0].forward.targetGroups, [
                { arn: TG_ARN("blue"), weight: 0 },
                { arn: TG_ARN("green"), weight: 100 },
            ]);
            assert.deepEqual(test.inputs.tags, {
                "switchyard:stack": "dev",
                "switchyard:service": "web",
                "switchyard:environment": "development",
                "switchyard:role": "test",
            });
        });

        it("opens production ports to the world and the test port only to testAccess.cidrs", async () => {
            const raw = canaryRaw();
            raw.testAccess = { cidrs: ["10.0.0.0/8", "2001:db8::/32"], port: 9001 };
            const { resources } = await run(raw);
            const sg = one(resources, "aws:ec2/securityGroup:SecurityGroup", "web-alb");
            assert.deepEqual(
                sg.inputs.ingress.map((r: any) => [r.fromPort, r.toPort, r.cidrBlocks, r.ipv6CidrBlocks]),
                [
                    [80, 80, ["0.0.0.0/0"], ["::/0"]],
                    [9001, 9001, ["10.0.0.0/8"], ["2001:db8::/32"]],
                ],
            );
        });

        it("turns each route into a rule on the production listener named by its priority, with each condition", async () => {
            const raw = canaryRaw();
            raw.traffic.routes = [
                { color: "green", header: { name: "x-beta-user", values: ["alice", "bob"] } },
                { color: "green", cookie: { name: "beta", value: "1" } },
                { color: "green", sourceIps: ["203.0.113.0/24"], priority: 40 },
                { color: "blue", hosts: ["old.example.com"], query: { version: "1", lang: "de" } },
            ];
            const { resources } = await run(raw);
            const rules = ofType(resources, "aws:lb/listenerRule:ListenerRule").sort((a, b) => a.name.localeCompare(b.name));
            assert.deepEqual(
                rules.map((r) => [r.name, r.inputs.priority, r.inputs.listenerArn, r.inputs.actions, r.inputs.conditions]),
                [
                    [
                        "web-route-p1",
                        1,
                        "arn:aws:lb:eu-west-1:123456789012:web-prod-listener",
                        [{ type: "forward", targetGroupArn: TG_ARN("green") }],
                        [{ httpHeader: { httpHeaderName: "x-beta-user", values: ["alice", "bob"] } }],
                    ],
                    [
                        "web-route-p2",
                        2,
                        "arn:aws:lb:eu-west-1:123456789012:web-prod-listener",
                        [{ type: "forward", targetGroupArn: TG_ARN("green") }],
                        // Exactly the cookie beta=1: not xbeta=1, not beta=10 (as the wildcard *beta=1* would).
                        [{ httpHeader: { httpHeaderName: "Cookie", regexValues: ["^(.{0,};\\s{0,1}){0,1}beta=1(;.{0,}){0,1}$"] } }],
                    ],
                    [
                        "web-route-p4",
                        4,
                        "arn:aws:lb:eu-west-1:123456789012:web-prod-listener",
                        [{ type: "forward", targetGroupArn: TG_ARN("blue") }],
                        // One query-string condition per key: the ALB ORs the pairs inside one condition.
                        [
                            { hostHeader: { values: ["old.example.com"] } },
                            { queryStrings: [{ key: "version", value: "1" }] },
                            { queryStrings: [{ key: "lang", value: "de" }] },
                        ],
                    ],
                    [
                        "web-route-p40",
                        40,
                        "arn:aws:lb:eu-west-1:123456789012:web-prod-listener",
                        [{ type: "forward", targetGroupArn: TG_ARN("green") }],
                        [{ sourceIp: { values: ["203.0.113.0/24"] } }],
                    ],
                ],
            );
        });

        // The engine runs creates and updates before deletes, and SetRulePriorities refuses a
        // priority another rule of the listener holds (PriorityInUse):
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetRulePriorities.html
        // Named by index, removing the first of two routes updated route-0 to priority 20 while
        // route-1 still held it. test/reality/rehearsal.test.ts replays such steps on moto.
        it("keeps a remaining rule's name and priority when an earlier route is removed (no renumbering)", async () => {
            const raw = canaryRaw();
            raw.traffic.routes = [
                { color: "green", header: { name: "x-beta-user", values: ["alice"] }, priority: 10 },
                { color: "green", sourceIps: ["203.0.113.0/24"], priority: 20 },
            ];
            const rulesOf = (rs: Recorded[]) =>
                ofType(rs, "aws:lb/listenerRule:ListenerRule").map((r) => [r.name, r.inputs.priority, r.inputs.conditions]);
            const before = rulesOf((await run(raw)).resources);
            raw.traffic.routes = raw.traffic.routes.slice(1);
            const after = rulesOf((await run(raw)).resources);
            assert.deepEqual(after, [before.find(([name]) => name === "web-route-p20")]);
            assert.deepEqual(after, [["web-route-p20", 20, [{ sourceIp: { values: ["203.0.113.0/24"] } }]]]);
        });

        it("gives each rule its index name as an alias, so a stack deployed with index names keeps its rules", async () => {
            const raw = canaryRaw();
            raw.traffic.routes = [
                { color: "green", header: { name: "x-beta-user", values: ["alice"] }, priority: 10 },
                { color: "green", sourceIps: ["203.0.113.0/24"], priority: 20 },
            ];
            const { resources } = await run(raw);
            assert.deepEqual(
                ofType(resources, "aws:lb/listenerRule:ListenerRule")
                    .map((r) => [r.name, r.aliasNames])
                    .sort(),
                [
                    ["web-route-p10", ["web-route-0"]],
                    ["web-route-p20", ["web-route-1"]],
                ],
            );
        });

        it("attaches the routes to the HTTPS listener when there is one", async () => {
            const raw = canaryRaw();
            raw.https = { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" };
            raw.traffic.routes = [{ color: "green", sourceIps: ["203.0.113.0/24"] }];
            const { resources } = await run(raw);
            const rule = one(resources, "aws:lb/listenerRule:ListenerRule", "web-route-p1");
            const prod = one(resources, LISTENER, "web-prod-listener");
            assert.equal(prod.inputs.port, 443);
            assert.equal(rule.inputs.listenerArn, "arn:aws:lb:eu-west-1:123456789012:web-prod-listener");
        });

        it("makes production routing wait for every service, and services wait for the test listener (invariant 6)", async () => {
            const { resources } = await run(canaryRaw());
            const prod = one(resources, LISTENER, "web-prod-listener");
            const deps = depsOf(prod, resources);
            assert.ok(deps.includes("web-blue-svc") && deps.includes("web-green-svc"), `production listener deps: ${deps}`);
            for (const svc of ["web-blue-svc", "web-green-svc"]) {
                assert.ok(depsOf(one(resources, "aws:ecs/service:Service", svc), resources).includes("web-test-listener"));
            }
            assert.ok(!depsOf(one(resources, LISTENER, "web-test-listener"), resources).some((d) => d?.endsWith("-svc")));
        });
    });

    describe("ColorFleet", () => {
        it("health-checks the target group on service.healthCheckPath and drains for deregistrationDelaySeconds", async () => {
            const raw = canaryRaw();
            raw.service.healthCheckPath = "/ready";
            raw.service.port = 3000;
            const { resources } = await run(raw);
            const tg = one(resources, "aws:lb/targetGroup:TargetGroup", "web-green-tg");
            assert.deepEqual(
                {
                    port: tg.inputs.port,
                    protocol: tg.inputs.protocol,
                    targetType: tg.inputs.targetType,
                    vpcId: tg.inputs.vpcId,
                    deregistrationDelay: tg.inputs.deregistrationDelay,
                },
                { port: 3000, protocol: "HTTP", targetType: "ip", vpcId: "vpc-default0", deregistrationDelay: 30 },
            );
            assert.deepEqual(tg.inputs.healthCheck, {
                enabled: true,
                path: "/ready",
                protocol: "HTTP",
                port: "traffic-port",
                matcher: "200",
                interval: 10,
                timeout: 5,
                healthyThreshold: 2,
                unhealthyThreshold: 3,
            });
            assert.deepEqual(tg.inputs.tags, {
                "switchyard:stack": "dev",
                "switchyard:service": "web",
                "switchyard:environment": "development",
                "switchyard:color": "green",
            });
        });

        it("accepts task traffic only from the load balancer's security group", async () => {
            const { resources } = await run(canaryRaw());
            const sg = one(resources, "aws:ec2/securityGroup:SecurityGroup", "web-green-tasks");
            assert.deepEqual(
                sg.inputs.ingress.map((r: any) => [r.protocol, r.fromPort, r.toPort, r.securityGroups, r.cidrBlocks]),
                [["tcp", 8080, 8080, ["web-alb-id"], undefined]],
            );
        });

        it("runs the digest on Fargate with its own log group, colour env, circuit breaker and steady-state wait", async () => {
            const { resources } = await run(canaryRaw());
            const task = one(resources, "aws:ecs/taskDefinition:TaskDefinition", "web-green-task");
            assert.deepEqual(
                [task.inputs.cpu, task.inputs.memory, task.inputs.networkMode, task.inputs.requiresCompatibilities],
                ["256", "512", "awsvpc", ["FARGATE"]],
            );
            const [container] = JSON.parse(task.inputs.containerDefinitions);
            assert.equal(container.image, digest("b"));
            assert.deepEqual(container.portMappings, [{ containerPort: 8080, protocol: "tcp" }]);
            assert.equal(container.stopTimeout, 30);
            assert.deepEqual(container.environment, [
                { name: "PORT", value: "8080" },
                { name: "COLOR", value: "green" },
                { name: "BUILD_ID", value: digest("b") },
            ]);
            assert.equal(container.logConfiguration.options["awslogs-group"], "web-green-logs");
            const svc = one(resources, "aws:ecs/service:Service", "web-green-svc");
            assert.deepEqual(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
            assert.equal(svc.inputs.waitForSteadyState, true);
            assert.deepEqual(svc.inputs.loadBalancers, [{ targetGroupArn: TG_ARN("green"), containerName: "app", containerPort: 8080 }]);
            assert.equal(svc.inputs.desiredCount, 2);
        });

        it("gives the execution role pull rights on exactly the image's ECR repository and its log group", async () => {
            const { resources } = await run(canaryRaw());
            const policy = JSON.parse(one(resources, "aws:iam/rolePolicy:RolePolicy", "web-green-exec").inputs.policy);
            assert.deepEqual(policy.Statement, [
                {
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    Resource: "arn:aws:logs:eu-west-1:123456789012:log-group:web-green-logs:*",
                },
                { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
                {
                    Effect: "Allow",
                    Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                    Resource: "arn:aws:ecr:eu-west-1:123456789012:repository/web",
                },
            ]);
        });

        it("keeps an idle colour's service at service.idleCount after finish", async () => {
            const raw = baseRaw();
            raw.service.idleCount = 1;
            raw.slots.green = { image: digest("b"), idle: true };
            const { resources } = await run(raw);
            assert.equal(one(resources, "aws:ecs/service:Service", "web-green-svc").inputs.desiredCount, 1);
            assert.equal(one(resources, "aws:ecs/service:Service", "web-blue-svc").inputs.desiredCount, 2);
        });
    });

    describe("ServerImage", () => {
        it("creates an immutable, scanned repository whose lifecycle policy expires only untagged images by default", async () => {
            const { resources } = await run(baseRaw());
            const repo = one(resources, "aws:ecr/repository:Repository", "web-image-repo");
            assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE");
            assert.deepEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
            const policy = JSON.parse(one(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "web-image-lifecycle").inputs.policy);
            assert.deepEqual(
                policy.rules.map((r: any) => r.selection),
                [{ tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 14 }],
            );
            assert.equal(ofType(resources, "docker:index/image:Image").length, 0, "no build slot, no build");
        });

        it("adds a count rule on every image only when registry.keepImages is set", async () => {
            const raw = baseRaw();
            raw.registry = { keepImages: 12 };
            const { resources } = await run(raw);
            const policy = JSON.parse(one(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy", "web-image-lifecycle").inputs.policy);
            assert.deepEqual(policy.rules[1].selection, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 12 });
        });

        it("tags a build with its content hash and a random part that lives as long as the build", async () => {
            const raw = baseRaw();
            raw.slots.green = { build: "./app" };
            const { resources } = await run(raw);
            const id = one(resources, "random:index/randomId:RandomId", "web-image-build");
            assert.equal(id.inputs.byteLength, 4);
            assert.match(id.inputs.keepers.context, /^build-[0-9a-f]{16}$/);
            const image = one(resources, "docker:index/image:Image", "web-image-image");
            assert.equal(
                image.inputs.imageName,
                `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-image-repo:${id.inputs.keepers.context}-0123abcd`,
            );
        });
    });

    describe("rolling strategy", () => {
        it("runs one fleet behind the production listener with ECS batch settings and no test listener", async () => {
            const { resources, outputs } = await run({
                strategy: "rolling",
                service: { name: "web", desiredCount: 4, deploymentMinimumHealthyPercent: 50, deploymentMaximumPercent: 150 },
                slots: { blue: { image: digest("a") } },
            });
            assert.deepEqual(
                ofType(resources, LISTENER).map((l) => l.name),
                ["web-prod-listener"],
            );
            assert.deepEqual(
                ofType(resources, "aws:lb/targetGroup:TargetGroup").map((t) => t.name),
                ["web-blue-tg"],
            );
            const svc = one(resources, "aws:ecs/service:Service", "web-blue-svc");
            assert.deepEqual(
                [
                    svc.inputs.desiredCount,
                    svc.inputs.deploymentMinimumHealthyPercent,
                    svc.inputs.deploymentMaximumPercent,
                    svc.inputs.deploymentCircuitBreaker,
                ],
                [4, 50, 150, { enable: true, rollback: true }],
            );
            assert.ok(depsOf(svc, resources).includes("web-prod-listener"));
            assert.deepEqual(one(resources, LISTENER, "web-prod-listener").inputs.defaultActions[0].forward.targetGroups, [
                { arn: TG_ARN("blue"), weight: 100 },
            ]);
            assert.equal(outputs.testUrl, null);
            assert.equal(outputs.candidateColor, null);
        });
    });

    it("registers no resource at all when the configuration is invalid (invariant 8)", async () => {
        const raw = canaryRaw();
        raw.traffic.canary.percent = 150;
        raw.slots.blue.image = "web:latest";
        await assert.rejects(
            run(raw),
            /has 2 problems:\n {2}- switchyard:slots.blue.image must be pinned by digest.*\n {2}- switchyard:traffic.canary.percent must be a whole number 1..99 \(got 150\)/,
        );
        assert.equal(registered().length, 0);
    });
});
