/**
 * The stack model of issue 16 (lib/config.ts parseStack): the single-service form as today, the
 * `switchyard:services` form with `switchyard:loadBalancer`, and every refusal of either, all at
 * once, named by the key where it is, with nothing returned.
 */
import { strict as assert } from "node:assert";
import { RawConfig, parseConfig, parseStack } from "../../lib/config";
import { ConfigError, Problems, nestedKeys } from "../../lib/problems";
import { StackSpec, serviceNamed } from "../../lib/stackSpec";
import { baseRaw, digest } from "../helpers/configs";
import { stackFileConfig } from "../helpers/program";
import { servicesRaw } from "../helpers/servicesConfigs";

/** The raw `switchyard:*` values of a committed stack file. */
function committedRaw(stack: string): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(stackFileConfig(stack))
            .filter(([k]) => k.startsWith("switchyard:"))
            .map(([k, v]) => [k.slice("switchyard:".length), v]),
    );
}

function edit(change: (raw: Record<string, any>) => void): Record<string, any> {
    const raw = servicesRaw();
    change(raw);
    return raw;
}

/** The problems parseStack reports (fails the test if it returns anything). */
function problemsOf(raw: Record<string, any>): string[] {
    let spec: StackSpec | undefined;
    try {
        spec = parseStack(raw, "dev");
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return [...e.problems];
    }
    assert.fail(`parseStack returned a stack: ${JSON.stringify(spec).slice(0, 200)}`);
}

describe("stack model (issue 16)", () => {
    describe("the single-service form", () => {
        const configs: [string, () => Record<string, unknown>][] = [
            ["Pulumi.dev.yaml", () => committedRaw("dev")],
            ["Pulumi.prod.yaml", () => committedRaw("prod")],
            ["test/helpers/configs.ts baseRaw", baseRaw],
            [
                "baseRaw with routes, a canary and https",
                () => {
                    const raw = baseRaw();
                    raw.slots.green = { image: digest("b") };
                    raw.traffic = {
                        live: "blue",
                        canary: { percent: 10 },
                        routes: [
                            { color: "green", priority: 7, header: { name: "x-beta", values: ["1", "2"] } },
                            { color: "green", hosts: ["beta.example.com"] },
                        ],
                    };
                    raw.https = { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" };
                    return raw;
                },
            ],
            [
                "baseRaw with strategy rolling",
                () => {
                    const raw = baseRaw();
                    raw.strategy = "rolling";
                    delete raw.testAccess;
                    return raw;
                },
            ],
        ];
        for (const [name, raw] of configs) {
            it(`is exactly parseConfig's result, as one service with keyPath [] and the default edge: ${name}`, () => {
                for (const stack of ["dev", "prod"]) {
                    const config = parseConfig(raw(), stack);
                    assert.deepEqual(parseStack(raw(), stack), {
                        stack,
                        form: "single",
                        edge: { default: config.service.name, maxRules: 100 },
                        services: [{ ...config, keyPath: [] }],
                    });
                }
            });
        }

        it("refuses what parseConfig refuses, with the same messages", () => {
            const raw = baseRaw();
            raw.traffic.live = "purple";
            assert.throws(() => parseStack(raw, "dev"), {
                name: "ConfigError",
                problems: ["switchyard:traffic.live must be one of blue, green (got 'purple')"],
            });
        });
    });

    describe("the services form", () => {
        it("parses each service as a single-service stack named by its key, stack-wide keys copied in, in file order", () => {
            const spec = parseStack(servicesRaw(), "dev");
            assert.equal(spec.form, "services");
            assert.deepEqual(spec.edge, { default: "web", maxRules: 100, adopt: undefined });
            assert.deepEqual(
                spec.services.map((s) => [s.service.name, s.keyPath, s.match]),
                [
                    ["web", ["services", "web"], { paths: [], hosts: [], priority: 40000 }],
                    ["api", ["services", "api"], { paths: ["/api", "/api/*"], hosts: ["api.example.com"], priority: 100 }],
                ],
            );
            const raw = servicesRaw();
            const apiAlone = parseConfig(
                {
                    testAccess: raw.testAccess,
                    service: { ...raw.services.api.service, name: "api" },
                    slots: raw.services.api.slots,
                    traffic: raw.services.api.traffic,
                },
                "dev",
            );
            const { match, keyPath, ...api } = serviceNamed(spec, "api")!;
            assert.deepEqual([match?.priority, keyPath], [100, ["services", "api"]]);
            assert.deepEqual(api, apiAlone);
            assert.equal(serviceNamed(spec, "nope"), undefined);
        });

        it("lets the default service leave out match (its routes keep their own priorities), and reads maxRules and adopt", () => {
            const noMatch = parseStack(
                edit((r) => delete r.services.web.match),
                "dev",
            );
            assert.equal(serviceNamed(noMatch, "web")!.match, undefined);
            const adopted = parseStack(
                edit((r) => {
                    r.loadBalancer = {
                        maxRules: 250,
                        adopt: {
                            arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/50dc6c495c0c9188",
                            securityGroupId: "sg-0123456789abcdef0",
                            productionListenerArn:
                                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2",
                            testListenerArn:
                                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/edge/50dc6c495c0c9188/0467ef3c8400ae65",
                        },
                    };
                    r.services.web.match = { hosts: ["www.example.com"], priority: 200 };
                }),
                "dev",
            );
            assert.deepEqual(adopted.edge, {
                default: undefined,
                maxRules: 250,
                adopt: {
                    arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/50dc6c495c0c9188",
                    securityGroupId: "sg-0123456789abcdef0",
                    productionListenerArn:
                        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2",
                    testListenerArn:
                        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/edge/50dc6c495c0c9188/0467ef3c8400ae65",
                },
            });
        });

        it("names every problem of a service by its real key, never the single-service key", () => {
            assert.deepEqual(
                problemsOf(
                    edit((r) => {
                        r.services.api.traffic.live = "purple";
                        r.services.api.service.minHealthyTargets = 9;
                        r.services.web.slots.blue.idle = true;
                    }),
                ),
                [
                    "switchyard:services.web.slots.blue.idle must not be set: blue receives traffic (live) and runs service.desiredCount tasks",
                    "switchyard:services.api.service.minHealthyTargets (9) must not exceed switchyard:services.api.service.desiredCount (3): the gate could never pass",
                    "switchyard:services.api.traffic.live must be one of blue, green (got 'purple')",
                ],
            );
        });

        it("reports a problem of a stack-wide key once, not once per service", () => {
            assert.deepEqual(problemsOf(edit((r) => (r.testAccess = { cidrs: ["nope"] }))), [
                "switchyard:testAccess.cidrs[0] must be a CIDR block such as 203.0.113.0/24 (got 'nope')",
            ]);
        });
    });

    describe("refuses, naming the key and the fix, with nothing returned", () => {
        const cases: [string, (r: Record<string, any>) => void, string[]][] = [
            [
                "single-service sections beside switchyard:services",
                (r) => {
                    r.traffic = { live: "blue" };
                    r.strategy = "blue-green";
                },
                [
                    "switchyard:traffic cannot be used with switchyard:services: each service has its own; move it into switchyard:services.<name>.traffic",
                    "switchyard:strategy cannot be used with switchyard:services: each service has its own; move it into switchyard:services.<name>.strategy",
                ],
            ],
            [
                "switchyard:loadBalancer without switchyard:services",
                (r) => {
                    Object.assign(r, baseRaw());
                    delete r.services;
                },
                [
                    "switchyard:loadBalancer needs switchyard:services: it describes the load balancer several services share; move the service's keys into switchyard:services.<name>, or remove switchyard:loadBalancer",
                ],
            ],
            [
                "a key that is no valid service name, and one that makes a security group name start with sg-",
                (r) => {
                    r.services.Api_2 = r.services.api;
                    r.services.sg = { ...r.services.api, match: { paths: ["/sg/*"], priority: 300 } };
                    delete r.services.api;
                },
                [
                    "switchyard:services.Api_2: the key is the service's name, and it must be 1-15 lowercase letters, digits or single hyphens, starting with a letter and not ending with a hyphen (it prefixes resource names; the green target group's generated name must fit AWS's 32 characters); rename the key",
                    "switchyard:services.sg: the key is the service's name, and 'sg' would give the security group a name starting with 'sg-', which AWS refuses; rename the key",
                ],
            ],
            [
                "service.name inside a service",
                (r) => (r.services.api.service.name = "api"),
                [
                    "switchyard:services.api.service.name cannot be set: the key 'api' is the service's name; remove service.name (or rename the key)",
                ],
            ],
            [
                "a default naming no service",
                (r) => (r.loadBalancer.default = "www"),
                [
                    "switchyard:loadBalancer.default names 'www', which is not a key of switchyard:services; use one of: web, api, or remove it (requests no rule matches then get a fixed 404)",
                    "switchyard:services.web.match needs paths or hosts: a service that is not switchyard:loadBalancer.default gets only the requests they match; e.g. paths: [/web/*]",
                ],
            ],
            [
                "a non-default service without a match, and one with neither paths nor hosts",
                (r) => {
                    delete r.services.api.match;
                    r.services.admin = { ...r.services.web, match: { priority: 500 } };
                },
                [
                    "switchyard:services.api.match is required: a service that is not switchyard:loadBalancer.default gets the requests its paths or hosts match, e.g. match: { paths: [/api/*], priority: 100 }",
                    "switchyard:services.admin.match needs paths or hosts: a service that is not switchyard:loadBalancer.default gets only the requests they match; e.g. paths: [/admin/*]",
                ],
            ],
            [
                "the default service with paths or hosts",
                (r) => (r.services.web.match = { paths: ["/*"], priority: 40000 }),
                [
                    "switchyard:services.web.match of the default service (switchyard:loadBalancer.default) cannot have paths or hosts: it gets every request no rule takes; remove them, or make another service the default",
                ],
            ],
            [
                "adopt together with default",
                (r) =>
                    (r.loadBalancer.adopt = {
                        arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/50dc6c495c0c9188",
                        securityGroupId: "sg-0123456789abcdef0",
                        productionListenerArn:
                            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2",
                        testListenerArn:
                            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/edge/50dc6c495c0c9188/0467ef3c8400ae65",
                    }),
                [
                    "switchyard:loadBalancer.default cannot be used with switchyard:loadBalancer.adopt: the adopted listeners' default actions are not switchyard's to change; remove default and give every service a match with paths or hosts",
                ],
            ],
            [
                "adopt without a test listener (blue-green services), a listener of another load balancer, a bad security group",
                (r) => {
                    r.loadBalancer = {
                        adopt: {
                            arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/50dc6c495c0c9188",
                            securityGroupId: "edge-sg",
                            productionListenerArn:
                                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/other/1111111111111111/f2f7dc8efc522ab2",
                        },
                    };
                    r.services.web.match = { hosts: ["www.example.com"], priority: 200 };
                },
                [
                    "switchyard:loadBalancer.adopt.securityGroupId must be a security group ID (sg-0123456789abcdef0) (got 'edge-sg')",
                    "switchyard:loadBalancer.adopt.testListenerArn is required: blue-green services serve their candidate on the test listener; give the adopted load balancer's test listener ARN",
                    "switchyard:loadBalancer.adopt.productionListenerArn is a listener of another load balancer than switchyard:loadBalancer.adopt.arn; give a listener of arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/edge/50dc6c495c0c9188",
                ],
            ],
            [
                "strategy rolling inside switchyard:services",
                (r) => (r.services.web.strategy = "rolling"),
                [
                    "switchyard:services.web.strategy rolling is not supported in switchyard:services yet: the shared load balancer's rules forward to a service's blue/green pair; use blue-green, or keep this service in a single-service stack of its own",
                ],
            ],
            [
                "match.priority missing, and outside 1..49901",
                (r) => {
                    delete r.services.api.match.priority;
                    r.services.web.match.priority = 49902;
                },
                [
                    "switchyard:services.web.match.priority must be a whole number 1..49901 (got 49902)",
                    "switchyard:services.api.match.priority is required: the first of the 100 listener-rule priorities this service's rules take (1..49901), e.g. priority: 100",
                ],
            ],
            [
                "a route priority above 99 in switchyard:services, given or by position",
                (r) => {
                    r.services.api.traffic.routes[0].priority = 150;
                    r.services.web.slots.green = { image: digest("d") };
                    r.services.web.traffic.routes = Array.from({ length: 100 }, (_, i) => ({
                        color: "green",
                        header: { name: "x-n", values: [String(i)] },
                    }));
                },
                [
                    "switchyard:services.web.traffic.routes[99].priority must be 1..99 in switchyard:services (got 100): a service's rules take 100 priorities from its match.priority, its routes first and its forward last",
                    "switchyard:services.api.traffic.routes[0].priority must be 1..99 in switchyard:services (got 150): a service's rules take 100 priorities from its match.priority, its routes first and its forward last",
                ],
            ],
            [
                "match values the ALB refuses: a path without /, a character outside the path-pattern set, four hosts, an empty list",
                (r) => {
                    r.services.api.match.paths = ["api/*", "/api/<x>"];
                    r.services.api.match.hosts = ["a.example.com", "b.example.com", "c.example.com", "d.example.com"];
                    r.services.web.match = { priority: 40000 };
                    r.services.admin = { ...r.services.api, match: { paths: [], hosts: ["admin.example.com"], priority: 300 } };
                },
                [
                    "switchyard:services.api.match.paths[0] must be a path pattern of at most 128 characters starting with /, using only letters, digits, _ - . $ / ~ \" ' @ : + & and the wildcards * ? (got 'api/*')",
                    "switchyard:services.api.match.paths[1] must be a path pattern of at most 128 characters starting with /, using only letters, digits, _ - . $ / ~ \" ' @ : + & and the wildcards * ? (got '/api/<x>')",
                    "switchyard:services.api.match.hosts lists 4 host names; an ALB condition takes at most 3: use wildcards, or split the service",
                    "switchyard:services.admin.match.paths must list at least one of the path patterns, or be removed",
                ],
            ],
            [
                "an unknown key in a service, in the match and in loadBalancer; an empty service",
                (r) => {
                    r.services.api.routes = [];
                    r.services.api.match.path = "/api";
                    r.loadBalancer.rules = 5;
                    r.services.empty = null;
                },
                [
                    "switchyard:services.empty is empty; give it a value or remove the key",
                    "switchyard:loadBalancer.rules is not a known key; use one of: default, maxRules, adopt",
                    "switchyard:services.api.routes is not a known key; use one of: match, service, slots, traffic, rollout, alarms, registry, database, strategy",
                    "switchyard:services.api.match.path is not a known key; use one of: paths, hosts, priority",
                ],
            ],
        ];
        for (const [what, change, problems] of cases) {
            it(what, () => assert.deepEqual(problemsOf(edit(change)), problems));
        }
    });

    describe("key namespaces (lib/problems.ts)", () => {
        it("moves a service's section keys under switchyard:services.<name> and leaves stack-wide keys where they are", () => {
            const p = new Problems(nestedKeys("services.api", ["service", "traffic"]));
            p.add("switchyard:service.gateProbePath cannot be used with switchyard:https: ...");
            p.add("switchyard:traffic.routes[0].priority 3 is already used by switchyard:traffic.routes[1]");
            p.add("switchyard:services.web stays");
            assert.deepEqual(p.all, [
                "switchyard:services.api.service.gateProbePath cannot be used with switchyard:https: ...",
                "switchyard:services.api.traffic.routes[0].priority 3 is already used by switchyard:services.api.traffic.routes[1]",
                "switchyard:services.web stays",
            ]);
        });
    });
});

describe("the shared edge's name", () => {
    it("is no service's name: a service called edge would share the edge's resource names", () => {
        const raw = servicesRaw();
        raw.services.edge = raw.services.api;
        delete raw.services.api;
        assert.throws(
            () => parseStack(raw as RawConfig, "dev"),
            (e: ConfigError) =>
                e.problems.includes(
                    "switchyard:services.edge: 'edge' is the shared load balancer's name (edge-alb, edge-cluster); rename the key",
                ),
        );
    });
});
