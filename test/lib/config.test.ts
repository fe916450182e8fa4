import { strict as assert } from "node:assert";
import { ConfigError } from "../../lib/problems";
import { parseConfig, rawFromPulumiConfig } from "../../lib/config";
import { unreachableAddressWarnings } from "../../lib/parse/settings";
import { baseRaw, digest } from "../helpers/configs";

/** The problems parseConfig reports for a raw config (fails the test if it accepts it). */
function problemsOf(raw: Record<string, any>, stack = "dev"): string[] {
    try {
        parseConfig(raw, stack);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return [...e.problems];
    }
    assert.fail("parseConfig accepted an invalid config");
}

function edit(change: (raw: Record<string, any>) => void): Record<string, any> {
    const raw = baseRaw();
    change(raw);
    return raw;
}

describe("config model", () => {
    it("fills every default for a minimal stack", () => {
        const cfg = parseConfig(baseRaw(), "dev");
        assert.deepEqual(cfg.service, {
            name: "web",
            port: 8080,
            healthCheckPath: "/healthz",
            cpu: 256,
            memory: 512,
            desiredCount: 2,
            idleCount: 0,
            minHealthyTargets: 2,
            gateTimeoutSeconds: 600,
            gateProbePath: undefined,
            deploymentMinimumHealthyPercent: 100,
            deploymentMaximumPercent: 200,
            stopTimeoutSeconds: 30,
            deregistrationDelaySeconds: 30,
            autoscaling: undefined,
        });
        assert.equal(cfg.strategy, "blue-green");
        assert.equal(cfg.environment, "development");
        assert.deepEqual(cfg.slots, { blue: { kind: "image", image: digest("a"), schema: undefined, idle: false }, green: undefined });
        assert.deepEqual(cfg.traffic, { live: "blue", canary: undefined, routes: [], previous: undefined });
        assert.deepEqual(cfg.testAccess, { cidrs: ["203.0.113.0/24"], port: 9000 });
        assert.deepEqual(cfg.registry, { keepImages: undefined });
        assert.equal(cfg.alarms.http5xxThreshold, 10);
    });

    it("treats stacks named prod or production as production unless switchyard:environment says otherwise", () => {
        assert.equal(parseConfig(baseRaw(), "prod").environment, "production");
        assert.equal(parseConfig(baseRaw(), "production").environment, "production");
        assert.equal(parseConfig({ ...baseRaw(), environment: "development" }, "prod").environment, "development");
        assert.equal(parseConfig({ ...baseRaw(), environment: "production" }, "staging").environment, "production");
    });

    it("decodes Pulumi's flat config map, keeping plain strings and dropping other namespaces", () => {
        const raw = rawFromPulumiConfig({
            "aws:region": "eu-west-1",
            "switchyard:strategy": "rolling",
            "switchyard:service": '{"name":"web"}',
        });
        assert.deepEqual(raw, { strategy: "rolling", service: { name: "web" } });
    });

    describe("rejects, naming the key and the fix", () => {
        const cases: Array<[string, (raw: Record<string, any>) => void, string]> = [
            [
                "a missing service",
                (r) => delete r.service,
                "switchyard:service is required; set at least switchyard:service.name (e.g. name: web)",
            ],
            ["an unknown top-level key", (r) => (r.slot = {}), "switchyard:slot is not a known key; use one of: switchyard:service"],
            [
                "an unknown service key",
                (r) => (r.service.desiredCont = 3),
                "switchyard:service.desiredCont is not a known key; use one of: name, port",
            ],
            ["a bad service name", (r) => (r.service.name = "Web_App"), "switchyard:service.name must be 1-15 lowercase letters"],
            ["a port out of range", (r) => (r.service.port = 70000), "switchyard:service.port must be a whole number 1..65535 (got 70000)"],
            [
                "a health path without /",
                (r) => (r.service.healthCheckPath = "healthz"),
                "switchyard:service.healthCheckPath must be a path starting with / (got 'healthz')",
            ],
            [
                "a non-Fargate cpu",
                (r) => (r.service.cpu = 300),
                "switchyard:service.cpu must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192, 16384 (got 300)",
            ],
            [
                "memory that does not fit the cpu",
                (r) => (r.service.memory = 8192),
                "switchyard:service.memory 8192 does not fit switchyard:service.cpu 256: Fargate takes 512, 1024 or 2048 MiB with cpu 256",
            ],
            [
                "idleCount above desiredCount",
                (r) => (r.service.idleCount = 3),
                "switchyard:service.idleCount (3) must not exceed switchyard:service.desiredCount (2)",
            ],
            [
                "a probe path without /",
                (r) => (r.service.gateProbePath = "version"),
                "switchyard:service.gateProbePath must be a path starting with / (got 'version')",
            ],
            [
                "a gate that can never pass",
                (r) => (r.service.minHealthyTargets = 5),
                "switchyard:service.minHealthyTargets (5) must not exceed switchyard:service.desiredCount (2): the gate could never pass",
            ],
            [
                "deployment percents that block ECS",
                (r) => Object.assign(r.service, { deploymentMaximumPercent: 100 }),
                "switchyard:service.deploymentMaximumPercent must be above 100 when deploymentMinimumHealthyPercent is 100",
            ],
            [
                "autoscaling without a metric",
                (r) => (r.service.autoscaling = { min: 1, max: 4 }),
                "switchyard:service.autoscaling: set exactly one of requestsPerTarget or cpuPercent",
            ],
            [
                "autoscaling that excludes desiredCount",
                (r) => (r.service.autoscaling = { min: 3, max: 4, cpuPercent: 60 }),
                "switchyard:service.desiredCount (2) must lie within switchyard:service.autoscaling.min..max (3..4)",
            ],
            [
                "a network with one public subnet",
                (r) => (r.network = { vpcId: "vpc-1", publicSubnetIds: ["subnet-1"], privateSubnetIds: ["subnet-2"] }),
                "switchyard:network.publicSubnetIds needs at least 2 subnets in different availability zones",
            ],
            [
                "a bad vpc id",
                (r) => (r.network = { vpcId: "vpc1", publicSubnetIds: ["subnet-1", "subnet-2"], privateSubnetIds: ["subnet-3"] }),
                "switchyard:network.vpcId must be a VPC id (vpc-...) (got 'vpc1')",
            ],
            [
                "a mutable tag",
                (r) => (r.slots.blue.image = "web:latest"),
                "switchyard:slots.blue.image must be pinned by digest (<repo>@sha256:<64 hex>), got 'web:latest': tags are mutable; find the digest with: docker buildx imagetools inspect web:latest",
            ],
            [
                "a short digest",
                (r) => (r.slots.blue.image = "web@sha256:abc"),
                "switchyard:slots.blue.image must be <repo>@sha256:<64 lowercase hex> (got 'web@sha256:abc')",
            ],
            [
                "image and build together",
                (r) => (r.slots.green = { image: digest("b"), build: "./app" }),
                "switchyard:slots.green: set either image or build, not both",
            ],
            [
                "a slot with neither",
                (r) => (r.slots.green = { schema: [3] }),
                "switchyard:slots.green: set either image (a digest-pinned reference) or build (a Docker context), or remove the slot",
            ],
            [
                "two building slots",
                (r) => (r.slots = { blue: { build: "./a" }, green: { build: "./b" } }),
                "switchyard:slots: at most one slot may build",
            ],
            [
                "an unknown colour",
                (r) => (r.slots.red = { image: digest("c") }),
                "switchyard:slots.red is not a known key; use one of: blue, green",
            ],
            [
                "a reversed schema range",
                (r) => (r.slots.blue.schema = { min: 5, max: 3 }),
                "switchyard:slots.blue.schema.min (5) must not exceed switchyard:slots.blue.schema.max (3)",
            ],
            [
                "an empty schema list",
                (r) => (r.slots.blue.schema = []),
                "switchyard:slots.blue.schema must list at least one schema version",
            ],
            [
                "a missing live colour",
                (r) => (r.traffic = {}),
                "switchyard:traffic.live is required: the colour that serves production (blue or green)",
            ],
            [
                "a live colour that is not a colour",
                (r) => (r.traffic.live = "red"),
                "switchyard:traffic.live must be one of blue, green (got 'red')",
            ],
            [
                "canary percent 0",
                (r) => (r.traffic.canary = { percent: 0 }),
                "switchyard:traffic.canary.percent must be a whole number 1..99 (got 0)",
            ],
            [
                "canary percent 150",
                (r) => (r.traffic.canary = { percent: 150 }),
                "switchyard:traffic.canary.percent must be a whole number 1..99 (got 150)",
            ],
            [
                "stickiness over a week",
                (r) => {
                    r.slots.green = { image: digest("b") };
                    r.traffic.canary = { percent: 10, stickiness: 604801 };
                },
                "switchyard:traffic.canary.stickiness must be a whole number 1..604800 (got 604801)",
            ],
            [
                "a canary into an empty slot",
                (r) => (r.traffic.canary = { percent: 10 }),
                "switchyard:slots.green is empty but green receives traffic (canary 10%); give it an image or build, or move the traffic",
            ],
            [
                "a route into an empty slot",
                (r) => (r.traffic.routes = [{ color: "green", sourceIps: ["203.0.113.0/24"] }]),
                "switchyard:slots.green is empty but green receives traffic (traffic.routes[0])",
            ],
            [
                "a route without a condition",
                (r) => (r.traffic.routes = [{ color: "blue" }]),
                "switchyard:traffic.routes[0] needs at least one condition: header, cookie, sourceIps, hosts or query",
            ],
            [
                "a route with too many values",
                (r) =>
                    (r.traffic.routes = [
                        {
                            color: "blue",
                            header: { name: "x-user", values: ["a", "b", "c", "d"] },
                            sourceIps: ["10.0.0.0/8", "192.168.0.0/16"],
                        },
                    ]),
                "switchyard:traffic.routes[0] has 6 condition values; an ALB rule allows at most 5: split it into several routes",
            ],
            [
                "a duplicate priority",
                (r) =>
                    (r.traffic.routes = [
                        { color: "blue", hosts: ["a.example.com"], priority: 7 },
                        { color: "blue", hosts: ["b.example.com"], priority: 7 },
                    ]),
                "switchyard:traffic.routes[1].priority 7 is already used by switchyard:traffic.routes[0]; priorities must be unique",
            ],
            [
                "a priority out of range",
                (r) => (r.traffic.routes = [{ color: "blue", hosts: ["a.example.com"], priority: 50001 }]),
                "switchyard:traffic.routes[0].priority must be a whole number 1..50000 (got 50001)",
            ],
            [
                "a bad CIDR",
                (r) => (r.traffic.routes = [{ color: "blue", sourceIps: ["10.0.0.0/33"] }]),
                "switchyard:traffic.routes[0].sourceIps[0] must be a CIDR block such as 203.0.113.0/24 (got '10.0.0.0/33')",
            ],
            [
                "a cookie without a value",
                (r) => (r.traffic.routes = [{ color: "blue", cookie: { name: "beta" } }]),
                "switchyard:traffic.routes[0].cookie needs both name and value",
            ],
            [
                "traffic.previous equal to live",
                (r) => (r.traffic.previous = "blue"),
                "switchyard:traffic.previous (blue) must differ from switchyard:traffic.live",
            ],
            [
                "idle on the live colour",
                (r) => (r.slots.blue.idle = true),
                "switchyard:slots.blue.idle must not be set: blue receives traffic (live) and runs service.desiredCount tasks",
            ],
            [
                "idling the colour that was just live",
                (r) => {
                    r.slots.green = { image: digest("b"), idle: true };
                    r.traffic.previous = "green";
                },
                "switchyard:slots.green.idle must not be set while switchyard:traffic.previous is green",
            ],
            [
                "a test port taken by production",
                (r) => (r.testAccess.port = 443),
                "switchyard:testAccess.port 443 is taken by the production listener; pick another (default 9000)",
            ],
            [
                "a bad certificate ARN",
                (r) => (r.https = { certificateArn: "cert-123" }),
                "switchyard:https.certificateArn must be an ACM certificate ARN",
            ],
            [
                "an unknown strategy",
                (r) => (r.strategy = "canary"),
                "switchyard:strategy must be one of blue-green, rolling (got 'canary')",
            ],
            [
                "a bad alarm email",
                (r) => (r.alarms = { emails: ["oncall"] }),
                "switchyard:alarms.emails[0] must be an email address (got 'oncall')",
            ],
        ];
        for (const [what, change, message] of cases) {
            it(what, () => {
                const problems = problemsOf(edit(change));
                assert.ok(
                    problems.some((p) => p.startsWith(message)),
                    `no problem starts with:\n  ${message}\ngot:\n  ${problems.join("\n  ")}`,
                );
            });
        }
    });

    describe("the database schema guard", () => {
        it("refuses traffic to a build that cannot run against the current schema", () => {
            const problems = problemsOf(
                edit((r) => {
                    r.slots.blue.schema = [3, 4];
                    r.database = { schema: 5 };
                }),
            );
            assert.deepEqual(problems, [
                "switchyard:slots.blue.schema ([3, 4]) does not include switchyard:database.schema 5, but blue receives traffic (live); deploy a build that supports schema 5 or move the traffic",
            ]);
        });
        it("accepts a range that includes the schema", () => {
            parseConfig(
                edit((r) => {
                    r.slots.blue.schema = { min: 3, max: 6 };
                    r.database = { schema: 5 };
                }),
                "dev",
            );
        });
        // Issue 15 item 7: a build that declares no schema could need any; where the database's is
        // declared, a colour with traffic must say what it runs against (pulumi up and the release tool).
        it("refuses traffic to a build that declares no schema where the database's is declared", () => {
            assert.deepEqual(problemsOf(edit((r) => (r.database = { schema: 5 }))), [
                "switchyard:slots.blue.schema is required: blue receives traffic (live) and switchyard:database.schema is 5, " +
                    "so the build must declare the schema versions it runs against, e.g. schema: [5] (or move the traffic)",
            ]);
        });
        it("lets a candidate without traffic support another schema (expand before migrate)", () => {
            parseConfig(
                edit((r) => {
                    r.slots.blue.schema = [5];
                    r.slots.green = { image: digest("b"), schema: [6] };
                    r.database = { schema: 5 };
                }),
                "dev",
            );
        });
        it("refuses a canary to an incompatible candidate", () => {
            const problems = problemsOf(
                edit((r) => {
                    r.slots.blue.schema = [5];
                    r.slots.green = { image: digest("b"), schema: [6] };
                    r.database = { schema: 5 };
                    r.traffic.canary = { percent: 10 };
                }),
            );
            assert.deepEqual(problems, [
                "switchyard:slots.green.schema ([6]) does not include switchyard:database.schema 5, but green receives traffic (canary 10%); deploy a build that supports schema 5 or move the traffic",
            ]);
        });
    });

    describe("values AWS rejects (issue 14, item 11)", () => {
        // The Fargate task sizes, copied from the table in
        // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size
        // (the same in RegisterTaskDefinition's `memory` documentation, botocore data/ecs/2014-11-13/service-2.json).
        const range = (min: number, max: number, step: number) => Array.from({ length: (max - min) / step + 1 }, (_, i) => min + i * step);
        const FARGATE_DOCS: Record<number, number[]> = {
            256: [512, 1024, 2048],
            512: [1024, 2048, 3072, 4096],
            1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
            2048: range(4096, 16384, 1024),
            4096: range(8192, 30720, 1024),
            8192: range(16384, 61440, 4096),
            16384: range(32768, 122880, 8192),
        };
        const accepts = (cpu: number, memory: number) => {
            try {
                parseConfig(
                    edit((r) => Object.assign(r.service, { cpu, memory })),
                    "dev",
                );
                return true;
            } catch {
                return false;
            }
        };

        it("accepts exactly the Fargate cpu/memory pairs of the ECS documentation, every 512 MiB from 512 to 122880", () => {
            for (const cpu of Object.keys(FARGATE_DOCS).map(Number)) {
                const accepted = range(512, 122880, 512).filter((memory) => accepts(cpu, memory));
                assert.deepEqual(accepted, FARGATE_DOCS[cpu], `cpu ${cpu}`);
            }
        });

        it("refuses cpu 256 with 1536 MiB, naming both keys and the memory sizes that fit", () => {
            assert.deepEqual(problemsOf(edit((r) => Object.assign(r.service, { cpu: 256, memory: 1536 }))), [
                "switchyard:service.memory 1536 does not fit switchyard:service.cpu 256: Fargate takes 512, 1024 or 2048 MiB with cpu 256",
            ]);
            assert.deepEqual(problemsOf(edit((r) => Object.assign(r.service, { cpu: 8192, memory: 18432 }))), [
                "switchyard:service.memory 18432 does not fit switchyard:service.cpu 8192: Fargate takes 16384 to 61440 in steps of 4096 MiB with cpu 8192",
            ]);
        });

        // CreateLoadBalancer Name: "must not begin with "internal-""
        // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html);
        // CreateSecurityGroup GroupName: "Can't start with sg-"
        // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html). The load
        // balancer and both kinds of security group are auto-named `<service.name>-...-<7 characters>`.
        it("refuses a service.name that makes a load balancer name start with internal- or a security group name with sg-", () => {
            const lb = (n: string) =>
                `switchyard:service.name '${n}' would give the load balancer a name starting with 'internal-', which AWS refuses; ` +
                `pick a name that is not 'internal' and does not start with 'internal-'`;
            const sg = (n: string) =>
                `switchyard:service.name '${n}' would give the security group a name starting with 'sg-', which AWS refuses; ` +
                `pick a name that is not 'sg' and does not start with 'sg-'`;
            for (const [name, problems] of [
                ["internal", [lb("internal")]],
                ["internal-api", [lb("internal-api")]],
                ["sg", [sg("sg")]],
                ["sg-web", [sg("sg-web")]],
            ] as const) {
                assert.deepEqual(problemsOf(edit((r) => (r.service.name = name))), problems, name);
            }
            for (const name of ["internals", "sgw", "web-internal", "web-sg"]) {
                assert.equal(
                    parseConfig(
                        edit((r) => (r.service.name = name)),
                        "dev",
                    ).service.name,
                    name,
                );
            }
        });

        // RuleCondition.Values: a host name "can contain any of the following characters: A-Z, a-z,
        // 0-9; - .; * (matches 0 or more characters); ? (matches exactly 1 character)", up to 128
        // characters (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html).
        it("refuses a route host with _ and accepts every character the ALB documents", () => {
            assert.deepEqual(problemsOf(edit((r) => (r.traffic.routes = [{ color: "blue", hosts: ["my_app.example.com"] }]))), [
                "switchyard:traffic.routes[0].hosts[0] must be a host name of at most 128 characters, using only letters, digits, " +
                    "- . and the wildcards * ? (no _), ending in .<letters> (got 'my_app.example.com')",
            ]);
            const host = "AZaz09-.*?x.example.com";
            const cfg = parseConfig(
                edit((r) => (r.traffic.routes = [{ color: "blue", hosts: [host] }])),
                "dev",
            );
            assert.deepEqual(cfg.traffic.routes[0].hosts, [host]);
        });
    });

    describe("test access", () => {
        it("rejects an empty list and the whole internet in production, naming each", () => {
            assert.deepEqual(
                problemsOf(
                    edit((r) => (r.testAccess = { cidrs: [] })),
                    "prod",
                ),
                [
                    "switchyard:testAccess.cidrs must list who may reach the test listener in production: the public address range " +
                        "your office, VPN or CI runner reaches the internet from (e.g. 203.0.113.0/24)",
                ],
            );
            assert.deepEqual(
                problemsOf(
                    edit((r) => (r.testAccess = { cidrs: ["0.0.0.0/0", "::/0"] })),
                    "prod",
                ),
                [
                    "switchyard:testAccess.cidrs must not contain 0.0.0.0/0 in production: the test listener would be open to the internet",
                    "switchyard:testAccess.cidrs must not contain ::/0 in production: the test listener would be open to the internet",
                ],
            );
        });
        it("allows them in development", () => {
            parseConfig(
                edit((r) => (r.testAccess = { cidrs: ["0.0.0.0/0"] })),
                "dev",
            );
            parseConfig(
                edit((r) => delete r.testAccess),
                "dev",
            );
        });
        it("applies the production rule to any stack with switchyard:environment production", () => {
            assert.equal(
                problemsOf(
                    edit((r) => {
                        r.environment = "production";
                        r.testAccess = { cidrs: ["0.0.0.0/0"] };
                    }),
                    "eu",
                ).length,
                1,
            );
        });
    });

    // An internet-facing load balancer's nodes have public addresses only (CreateLoadBalancer
    // Scheme, https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html),
    // and a client behind a NAT gateway arrives by the gateway's address
    // (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html).
    describe("test access warnings (issue 14, item 3)", () => {
        const warning = (cidr: string, range: string) =>
            `switchyard:testAccess.cidrs has ${cidr}, a ${range} range: the load balancer is internet-facing, so every tester ` +
            `reaches the test listener from a public address (a client in the VPC from its own or its NAT gateway's), and this ` +
            `entry admits no one; list the public range your office, VPN or CI runner reaches the internet from (e.g. 203.0.113.0/24)`;

        it("warns about each range that never reaches an internet-facing listener, and only those", () => {
            const cidrs = [
                "10.0.0.0/8",
                "172.20.1.0/24",
                "192.168.0.0/16",
                "100.64.0.0/10",
                "169.254.0.0/16",
                "fd00:1234::/32",
                "fe80::/64",
                "203.0.113.0/24",
                "10.0.0.0/7",
                "172.32.0.0/16",
                "2001:db8::/32",
            ];
            const cfg = parseConfig(
                edit((r) => (r.testAccess = { cidrs })),
                "prod",
            );
            assert.deepEqual(unreachableAddressWarnings(cfg), [
                warning("10.0.0.0/8", "private (RFC 1918)"),
                warning("172.20.1.0/24", "private (RFC 1918)"),
                warning("192.168.0.0/16", "private (RFC 1918)"),
                warning("100.64.0.0/10", "carrier-grade NAT shared (RFC 6598)"),
                warning("169.254.0.0/16", "link-local"),
                warning("fd00:1234::/32", "IPv6 unique local (RFC 4193)"),
                warning("fe80::/64", "IPv6 link-local"),
            ]);
        });

        it("warns, never refuses: a stack deployed with 10.0.0.0/8 still parses (a rollback is never blocked by it)", () => {
            const cfg = parseConfig(
                edit((r) => (r.testAccess = { cidrs: ["10.0.0.0/8"] })),
                "prod",
            );
            assert.deepEqual(cfg.testAccess.cidrs, ["10.0.0.0/8"]);
            assert.equal(unreachableAddressWarnings(cfg).length, 1);
        });

        // A source-ip condition matches "the source IP address of the request", which at an
        // internet-facing load balancer is always public (lib/parse/addressRanges.ts cites AWS).
        // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
        it("warns about a route whose sourceIps are private: it would match no request", () => {
            const cfg = parseConfig(
                edit((r) => {
                    r.slots.green = { image: digest("b") };
                    r.traffic.routes = [{ color: "green", sourceIps: ["203.0.113.0/24", "192.168.0.0/16"] }];
                }),
                "prod",
            );
            assert.deepEqual(
                unreachableAddressWarnings(cfg).filter((w) => w.includes("routes")),
                [
                    "switchyard:traffic.routes[0].sourceIps has 192.168.0.0/16, a private (RFC 1918) range: the load balancer is " +
                        "internet-facing and sees every client by its public address (a client in the VPC by its own or its NAT " +
                        "gateway's), so this route matches no request; list the public range of the users it is for (e.g. 203.0.113.0/24)",
                ],
            );
        });

        it("says nothing for the rolling strategy, which has no test listener", () => {
            assert.deepEqual(unreachableAddressWarnings({ strategy: "rolling", testAccess: { cidrs: ["10.0.0.0/8"] } }), []);
        });
    });

    describe("rolling strategy", () => {
        it("runs the one filled slot as the fleet, with traffic.live optional", () => {
            const cfg = parseConfig({ strategy: "rolling", service: { name: "web" }, slots: { blue: { image: digest("a") } } }, "dev");
            assert.equal(cfg.traffic.live, "blue");
            assert.deepEqual(cfg.testAccess, { cidrs: [], port: 0 });
        });
        it("refuses every blue-green key, naming each", () => {
            const problems = problemsOf({
                strategy: "rolling",
                service: { name: "web" },
                slots: { blue: { image: digest("a") }, green: { image: digest("b") } },
                traffic: { live: "blue", canary: { percent: 10 }, routes: [] },
                testAccess: { cidrs: ["10.0.0.0/8"] },
            });
            assert.deepEqual(problems, [
                "switchyard:slots must fill exactly one colour with strategy rolling (got blue and green); remove the other slot or use strategy blue-green",
                "switchyard:traffic.canary is a blue-green key and cannot be used with switchyard:strategy rolling; remove it",
                "switchyard:traffic.routes is a blue-green key and cannot be used with switchyard:strategy rolling; remove it",
                "switchyard:testAccess is a blue-green key (the test listener serves the candidate) and cannot be used with switchyard:strategy rolling; remove it",
            ]);
        });
    });

    it("reports several problems together in one error, in key order", () => {
        let error: unknown;
        try {
            parseConfig(
                {
                    service: { name: "web", cpu: 300 },
                    slots: { blue: { image: "web:v1" } },
                    traffic: { live: "green", canary: { percent: 150 } },
                    testAccess: { cidrs: ["0.0.0.0/0"] },
                },
                "prod",
            );
        } catch (e) {
            error = e;
        }
        assert.ok(error instanceof ConfigError);
        assert.equal(
            error.message,
            [
                "switchyard: the stack configuration has 5 problems:",
                "  - switchyard:service.cpu must be a Fargate size: 256, 512, 1024, 2048, 4096, 8192, 16384 (got 300)",
                "  - switchyard:slots.blue.image must be pinned by digest (<repo>@sha256:<64 hex>), got 'web:v1': tags are mutable; find the digest with: docker buildx imagetools inspect web:v1",
                "  - switchyard:traffic.canary.percent must be a whole number 1..99 (got 150)",
                "  - switchyard:testAccess.cidrs must not contain 0.0.0.0/0 in production: the test listener would be open to the internet",
                "  - switchyard:slots.green is empty but green receives traffic (live); give it an image or build, or move the traffic",
            ].join("\n"),
        );
    });
});
