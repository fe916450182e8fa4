/**
 * The rule layout (lib/ruleLayout.ts): where each listener rule of a stack sits, and the checks
 * on it. The single form gives exactly the rules components/trafficSwitch.ts registered before
 * issue 16; priorities of rules that stay never change, whatever is added, removed or reordered.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { RawConfig, parseConfig, parseStack } from "../../lib/config";
import { routeConditions } from "../../lib/parse/albRules";
import { ConfigError } from "../../lib/problems";
import { PlannedRule, ruleLayout, rulesOf } from "../../lib/ruleLayout";
import { StackSpec } from "../../lib/stackSpec";
import { baseRaw, digest } from "../helpers/configs";
import { servicesRaw } from "../helpers/servicesConfigs";

function problemsOf(raw: Record<string, any>): string[] {
    try {
        parseStack(raw, "dev");
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return [...e.problems];
    }
    assert.fail("parseStack accepted the stack");
}

function edit(change: (raw: Record<string, any>) => void): Record<string, any> {
    const raw = servicesRaw();
    change(raw);
    return raw;
}

/** A service entry on `paths`, blue live, with `routes`. */
function entry(priority: number, paths: string[] | undefined, routes: Record<string, unknown>[] = []): Record<string, any> {
    return {
        match: paths ? { paths, priority } : { priority },
        slots: { blue: { image: digest("a") }, green: { image: digest("b") } },
        traffic: { live: "blue", routes },
    };
}

describe("rule layout (issue 16)", () => {
    it("single form: each route at its own priority, named <service>-route-p<priority>, with routeConditions (no forward, no test rule)", () => {
        const raw = baseRaw();
        raw.slots.green = { image: digest("b") };
        raw.traffic.routes = [
            { color: "green", priority: 20, header: { name: "x-beta", values: ["1"] } },
            { color: "green", priority: 10, cookie: { name: "beta", value: "yes" } },
        ];
        const config = parseConfig(raw, "dev");
        // components/trafficSwitch.ts before issue 16: routeRuleName(name, route) = `${name}-route-p${route.priority}`,
        // priority: route.priority, conditions: routeConditions(route).map((c) => c.condition).
        const today = config.traffic.routes.map((route, routeIndex) => ({
            listener: "production",
            service: "web",
            kind: "route",
            priority: route.priority,
            logicalName: `web-route-p${route.priority}`,
            route,
            routeIndex,
            conditions: routeConditions(route).map((c) => c.condition),
        }));
        const spec = parseStack(raw, "dev");
        assert.deepEqual(ruleLayout(spec), today);
        assert.deepEqual(rulesOf(spec, "web"), { routes: today, forward: undefined, test: undefined });
    });

    it("services form: routes in the block from match.priority with the match's conditions, the forward last, the test rule first", () => {
        const spec = parseStack(servicesRaw(), "dev");
        const match = [{ pathPattern: { values: ["/api", "/api/*"] } }, { hostHeader: { values: ["api.example.com"] } }];
        assert.deepEqual(ruleLayout(spec), [
            {
                listener: "production",
                service: "api",
                kind: "route",
                priority: 100,
                logicalName: "api-route-p1",
                route: { color: "blue", priority: 1, header: { name: "x-beta", values: ["1"] } },
                routeIndex: 0,
                conditions: [...match, { httpHeader: { httpHeaderName: "x-beta", values: ["1"] } }],
            },
            { listener: "production", service: "api", kind: "forward", priority: 199, logicalName: "api-forward", conditions: match },
            { listener: "test", service: "api", kind: "test", priority: 100, logicalName: "api-test", conditions: match },
        ]);
        assert.deepEqual(rulesOf(spec, "web"), { routes: [], forward: undefined, test: undefined });
        assert.throws(() => rulesOf(spec, "nope"), /no service 'nope' in stack dev/);
    });

    it("the default service's routes sit in its block, without conditions of a match", () => {
        const spec = parseStack(
            edit((r) => {
                r.services.web.slots.green = { image: digest("d") };
                r.services.web.traffic.routes = [{ color: "green", priority: 5, query: { beta: "1" } }];
            }),
            "dev",
        );
        assert.deepEqual(
            ruleLayout(spec).filter((r) => r.service === "web"),
            [
                {
                    listener: "production",
                    service: "web",
                    kind: "route",
                    priority: 40004,
                    logicalName: "web-route-p5",
                    route: { color: "green", priority: 5, query: { beta: "1" } },
                    routeIndex: 0,
                    conditions: [{ queryStrings: [{ key: "beta", value: "1" }] }],
                },
            ],
        );
    });

    describe("refuses a layout the ALB would refuse or that would route elsewhere", () => {
        const cases: [string, (r: Record<string, any>) => void, string[]][] = [
            [
                "overlapping blocks (a priority used twice on a listener)",
                (r) => (r.services.admin = entry(150, ["/admin/*"])),
                [
                    "switchyard:services.admin.match.priority 150 overlaps switchyard:services.api.match.priority 100: each service's rules take 100 priorities from its match.priority (api: 100..199), so both would use priorities 150..199 on a listener; give admin a match.priority of at least 200, or move one of them",
                ],
            ],
            [
                "a narrower match after a broader one that covers it (/api/admin/* after /api/*, hosts covered)",
                (r) =>
                    (r.services.admin = {
                        ...entry(200, ["/api/admin/*"]),
                        match: { paths: ["/api/admin/*"], hosts: ["API.example.com"], priority: 200 },
                    }),
                [
                    "switchyard:services.admin.match (paths /api/admin/*; hosts API.example.com) comes after switchyard:services.api.match (paths /api, /api/*; hosts api.example.com), which covers it: the load balancer takes the first rule that matches, so admin would get no requests; give api a match.priority above admin's block, so admin's rules come first",
                ],
            ],
            [
                "the default service's routes before another service's rules",
                (r) => {
                    delete r.services.web.match;
                    r.services.web.slots.green = { image: digest("d") };
                    r.services.web.traffic.routes = [{ color: "green", header: { name: "x-beta", values: ["1"] } }];
                },
                [
                    "switchyard:services.web.traffic.routes: the routes of the default service (web) match any path and host, so at priorities from 1 they would come before the rules of api and take their requests that match a route; give web a match: { priority: 200 } (or higher) so its routes come after every other service's rules",
                ],
            ],
            [
                "more rules on both listeners than maxRules",
                (r) => {
                    r.loadBalancer.maxRules = 2;
                },
                [
                    'switchyard:loadBalancer.maxRules is 2, but the stack needs 3 listener rules on the load balancer (production and test listeners; web 0, api 3): remove routes or services, or raise the account\'s "Rules per Application Load Balancer" quota and then maxRules',
                ],
            ],
            [
                "more than 5 condition values in a rule counting the service's match",
                (r) => (r.services.api.traffic.routes[0].header.values = ["1", "2", "3"]),
                [
                    "switchyard:services.api.traffic.routes[0] with switchyard:services.api.match has 6 condition values; an ALB rule allows at most 5: split it into several routes",
                ],
            ],
            [
                "two host-header conditions in one rule (route hosts in a service whose match has hosts)",
                (r) => (r.services.api.traffic.routes[0] = { color: "blue", hosts: ["beta.example.com"] }),
                [
                    "switchyard:services.api.traffic.routes[0] with switchyard:services.api.match has 2 host-header conditions (match.hosts, traffic.routes[0].hosts); an ALB rule takes at most one: give the hosts in one place, the service's match or the route",
                ],
            ],
            [
                "more than 5 wildcards in a rule counting the match",
                (r) => {
                    r.services.api.match = { paths: ["/a*?*", "/b*"], hosts: ["*.example.com"], priority: 100 };
                    r.services.api.traffic.routes[0] = { color: "blue", header: { name: "x-beta", values: ["*"] } };
                },
                [
                    "switchyard:services.api.traffic.routes[0] with switchyard:services.api.match has 6 wildcards (* and ?); an ALB rule allows at most 5: use fewer, or split the route",
                ],
            ],
        ];
        for (const [what, change, problems] of cases) {
            it(what, () => assert.deepEqual(problemsOf(edit(change)), problems));
        }

        it("accepts the broader match placed after the narrower one, and hosts that do not cover", () => {
            assert.doesNotThrow(() =>
                parseStack(
                    edit((r) => {
                        r.services.api.match.priority = 200;
                        r.services.admin = entry(1, ["/api/admin/*"]);
                    }),
                    "dev",
                ),
            );
            assert.doesNotThrow(() =>
                parseStack(
                    edit(
                        (r) =>
                            (r.services.admin = {
                                ...entry(300, []),
                                match: { paths: ["/api/admin/*"], hosts: ["admin.example.com"], priority: 300 },
                            }),
                    ),
                    "dev",
                ),
            );
        });
    });

    /**
     * Issue 16: "adding, removing or reordering services or routes never changes the priority of a
     * rule that stays". Random stacks of up to 4 services (names, blocks and paths distinct) with up
     * to 4 routes each, changed by random steps; every rule present before and after a step (same
     * logical name on the same listener) keeps its priority, and no listener holds a priority twice.
     */
    it("property: a rule that stays keeps its logical name and priority over random add/remove/reorder steps", () => {
        type Svc = { name: string; block: number; routes: number[] };
        type Step =
            | { kind: "addService"; service: Svc }
            | { kind: "removeService"; at: number }
            | { kind: "reorderServices"; seed: number }
            | { kind: "addRoute"; at: number; priority: number }
            | { kind: "removeRoute"; at: number; route: number }
            | { kind: "reorderRoutes"; at: number };
        const names = ["api", "admin", "shop", "docs", "auth"];
        const stackOf = (services: Svc[], withDefault: boolean): StackSpec =>
            parseStack(
                {
                    testAccess: { cidrs: ["203.0.113.0/24"] },
                    loadBalancer: withDefault ? { default: "web" } : {},
                    services: Object.fromEntries([
                        ...(withDefault ? [["web", entry(40000, undefined, [{ color: "green", priority: 3, query: { v: "2" } }])]] : []),
                        ...services.map((s) => [
                            s.name,
                            entry(
                                s.block * 100,
                                [`/${s.name}/*`],
                                s.routes.map((priority) => ({
                                    color: "green",
                                    priority,
                                    header: { name: "x-v", values: [String(priority)] },
                                })),
                            ),
                        ]),
                    ]),
                },
                "dev",
            );
        const service = fc.record({
            name: fc.constantFrom(...names),
            block: fc.integer({ min: 1, max: 399 }),
            routes: fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 4 }),
        });
        const step: fc.Arbitrary<Step> = fc.oneof(
            fc.record({ kind: fc.constant("addService" as const), service }),
            fc.record({ kind: fc.constant("removeService" as const), at: fc.nat() }),
            fc.record({ kind: fc.constant("reorderServices" as const), seed: fc.nat() }),
            fc.record({ kind: fc.constant("addRoute" as const), at: fc.nat(), priority: fc.integer({ min: 1, max: 99 }) }),
            fc.record({ kind: fc.constant("removeRoute" as const), at: fc.nat(), route: fc.nat() }),
            fc.record({ kind: fc.constant("reorderRoutes" as const), at: fc.nat() }),
        );
        const valid = (services: Svc[], withDefault: boolean) =>
            (withDefault || services.length > 0) &&
            new Set(services.map((s) => s.name)).size === services.length &&
            new Set(services.map((s) => s.block)).size === services.length;
        const apply = (services: Svc[], s: Step): Svc[] => {
            const at = (n: number) => n % Math.max(services.length, 1);
            switch (s.kind) {
                case "addService":
                    return [...services, s.service];
                case "removeService":
                    return services.filter((_, i) => i !== at(s.at));
                case "reorderServices":
                    return [...services].sort((a, b) => ((a.block * 7919 + s.seed) % 101) - ((b.block * 7919 + s.seed) % 101));
                case "addRoute":
                    return services.map((x, i) =>
                        i === at(s.at) && !x.routes.includes(s.priority) ? { ...x, routes: [...x.routes, s.priority] } : x,
                    );
                case "removeRoute":
                    return services.map((x, i) =>
                        i === at(s.at) ? { ...x, routes: x.routes.filter((_, j) => j !== s.route % Math.max(x.routes.length, 1)) } : x,
                    );
                case "reorderRoutes":
                    return services.map((x, i) => (i === at(s.at) ? { ...x, routes: [...x.routes].reverse() } : x));
            }
        };
        const byName = (rules: PlannedRule[]) => new Map(rules.map((r) => [`${r.listener} ${r.logicalName}`, r.priority]));
        fc.assert(
            fc.property(
                fc.array(service, { maxLength: 4 }),
                fc.array(step, { maxLength: 8 }),
                fc.boolean(),
                (start, steps, withDefault) => {
                    let services = start.filter((s, i) => start.findIndex((t) => t.name === s.name || t.block === s.block) === i);
                    if (!valid(services, withDefault)) return;
                    let before = byName(ruleLayout(stackOf(services, withDefault)));
                    for (const s of steps) {
                        const next = apply(services, s);
                        if (!valid(next, withDefault)) continue;
                        const rules = ruleLayout(stackOf(next, withDefault));
                        const after = byName(rules);
                        assert.equal(after.size, rules.length, "logical names are unique");
                        for (const listener of ["production", "test"]) {
                            const priorities = rules.filter((r) => r.listener === listener).map((r) => r.priority);
                            assert.equal(new Set(priorities).size, priorities.length, `a ${listener} priority used twice`);
                        }
                        for (const [name, priority] of after) {
                            if (before.has(name)) assert.equal(priority, before.get(name), `${name} moved after ${s.kind}`);
                        }
                        services = next;
                        before = after;
                    }
                },
            ),
            { numRuns: 150 },
        );
    });
});

// The probe requests the load balancer's own name on the test listener
// (components/blueGreenService.ts); on a shared edge a service's candidate is reached only through
// its test rule, whose conditions are its match (lib/ruleLayout.ts).
describe("the health gate's probe on a shared edge", () => {
    const withProbe = (match: Record<string, unknown>, probe: string) => {
        const raw = servicesRaw();
        raw.services.api.match = match;
        raw.services.api.service = { ...raw.services.api.service, gateProbePath: probe };
        return raw;
    };

    it("refuses a probe for a service matched by hosts: the probe's Host never matches", () => {
        assert.throws(
            () => parseStack(withProbe({ hosts: ["api.example.com"], priority: 100 }, "/healthz") as RawConfig, "dev"),
            (e: ConfigError) =>
                e.problems.includes(
                    "switchyard:services.api.service.gateProbePath cannot be used with switchyard:services.api.match.hosts: the probe's " +
                        "Host is the load balancer's own name, which the test rule's host condition never matches; remove gateProbePath " +
                        "(the gate still waits for healthy targets and quiet alarms) or match this service by paths only",
                ),
        );
    });

    it("refuses a probe path the match's paths do not take, and accepts one they do", () => {
        assert.throws(
            () => parseStack(withProbe({ paths: ["/api/*"], priority: 100 }, "/healthz") as RawConfig, "dev"),
            (e: ConfigError) =>
                e.problems.includes(
                    "switchyard:services.api.service.gateProbePath /healthz is not taken by switchyard:services.api.match.paths " +
                        "(/api/*): the probe would reach another service's candidate or the 404; use a path the match takes, e.g. /api/healthz",
                ),
        );
        const spec = parseStack(withProbe({ paths: ["/api/*"], priority: 100 }, "/api/healthz") as RawConfig, "dev");
        assert.equal(spec.services.find((s) => s.service.name === "api")!.service.gateProbePath, "/api/healthz");
    });
});
