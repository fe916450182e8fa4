/**
 * Invariant 13 (issue 17): co-existence between services. Every build with traffic (live,
 * canary, routes, previous kept warm) works with every build with traffic of each service it
 * requires; parseStack refuses anything else, every problem at once, naming both builds, the
 * versions and which service to move first. The release tool validates each edited file with
 * parseStack, so a refused state is never written (exit 2).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { parseStack } from "../../lib/config";
import { compatibilityPairs } from "../../lib/coexistence";
import { ConfigError } from "../../lib/problems";
import { StackSpec } from "../../lib/stackSpec";
import { baseRaw, digest } from "../helpers/configs";
import { servicesRaw } from "../helpers/servicesConfigs";
import { run, stackDir } from "../release/fixtures";

const A = digest("a");
const B = digest("b");
const C = digest("c");
const D = digest("d");

/**
 * The example: api v2 live on blue, v3 the candidate on green (no traffic yet); web live
 * on blue (requires api [2]) with a canary of green (requires api [2, 3]).
 */
function checkout(): Record<string, any> {
    const raw = servicesRaw();
    raw.services.api.slots = { blue: { image: B, provides: 2 }, green: { image: C, provides: 3 } };
    raw.services.api.traffic = { live: "blue" };
    raw.services.web.slots = { blue: { image: A, requires: { api: [2] } }, green: { image: D, requires: { api: [2, 3] } } };
    raw.services.web.traffic = { live: "blue", canary: { percent: 10 } };
    return raw;
}

function problemsOf(raw: Record<string, any>): string[] {
    try {
        parseStack(raw, "dev");
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return [...e.problems];
    }
    assert.fail("parseStack accepted the stack");
}

const WEB_BLUE = "web blue (web@sha256:aaaaaaaaaaaa, live)";
const WEB_GREEN_CANARY = "web green (web@sha256:dddddddddddd, canary 10%)";
const API_BLUE_LIVE = "api blue (web@sha256:bbbbbbbbbbbb, live)";

describe("co-existence between services (invariant 13, issue 17)", () => {
    it("accepts the issue's example, and lists which builds call which, compatible", () => {
        const spec = parseStack(checkout(), "dev");
        assert.deepEqual(spec.services.find((s) => s.service.name === "api")!.slots.green, {
            kind: "image",
            image: C,
            schema: undefined,
            idle: false,
            provides: 3,
        });
        assert.deepEqual(compatibilityPairs(spec), [
            {
                caller: { service: "web", color: "blue", build: "web@sha256:aaaaaaaaaaaa", traffic: ["live"], requires: { versions: [2] } },
                callee: { service: "api", color: "blue", build: "web@sha256:bbbbbbbbbbbb", traffic: ["live"], provides: 2 },
                compatible: true,
            },
            {
                caller: {
                    service: "web",
                    color: "green",
                    build: "web@sha256:dddddddddddd",
                    traffic: ["canary 10%"],
                    requires: { versions: [2, 3] },
                },
                callee: { service: "api", color: "blue", build: "web@sha256:bbbbbbbbbbbb", traffic: ["live"], provides: 2 },
                compatible: true,
            },
        ]);
    });

    it("lists an incompatible pair as data too (plan shows it): a range, and a callee that declares nothing", () => {
        // parseStack refuses such a state, so it is built from a valid one: compatibilityPairs reads any StackSpec.
        const spec = parseStack(checkout(), "dev");
        const [api, web] = [spec.services[1], spec.services[0]];
        const changed: StackSpec = {
            ...spec,
            services: [
                { ...web, slots: { ...web.slots, green: { ...web.slots.green!, requires: { api: { min: 3, max: 4 } } } } },
                {
                    ...api,
                    slots: { ...api.slots, green: { kind: "image", image: C, idle: false } },
                    traffic: { ...api.traffic, routes: [{ color: "green", priority: 1, header: { name: "x-beta", values: ["1"] } }] },
                },
            ],
        };
        assert.deepEqual(
            compatibilityPairs(changed).map((p) => [p.caller.color, p.callee.color, p.callee.traffic, p.callee.provides, p.compatible]),
            [
                ["blue", "blue", ["live"], 2, true],
                ["blue", "green", ["traffic.routes[0]"], undefined, false],
                ["green", "blue", ["live"], 2, false],
                ["green", "green", ["traffic.routes[0]"], undefined, false],
            ],
        );
    });

    it("refuses a canary of a web build that requires only [3] while api v2 has traffic, naming api to move first", () => {
        const raw = checkout();
        raw.services.web.slots.green.requires = { api: [3] };
        assert.deepEqual(problemsOf(raw), [
            `switchyard:services.web.slots.green: ${WEB_GREEN_CANARY} requires api [3], but ${API_BLUE_LIVE} provides 2 and both ` +
                "have traffic; move api first: its v3 must have traffic before web's build that requires [3] gets any, and its v2 " +
                "must have none by then (or move web's traffic back)",
        ]);
    });

    it("refuses a callee with traffic that provides nothing while a build with traffic requires it, once, naming every caller", () => {
        const raw = checkout();
        delete raw.services.api.slots.blue.provides;
        assert.deepEqual(problemsOf(raw), [
            `switchyard:services.api.slots.blue.provides is required: ${API_BLUE_LIVE} has traffic and ${WEB_BLUE} requires api [2], ` +
                `and ${WEB_GREEN_CANARY} requires api [2, 3]; declare the version of the interface this build serves, e.g. provides: 2 ` +
                "(or move the traffic)",
        ]);
    });

    it("refuses a callee's canary ahead of a caller, naming the caller to move first", () => {
        const raw = checkout();
        raw.services.web.traffic = { live: "blue" }; // web blue requires [2] only
        raw.services.api.traffic = { live: "blue", canary: { percent: 20 } };
        assert.deepEqual(problemsOf(raw), [
            `switchyard:services.web.slots.blue: ${WEB_BLUE} requires api [2], but api green (web@sha256:cccccccccccc, canary 20%) ` +
                "provides 3 and both have traffic; move web first: a build of web that accepts v3 must have all of web's traffic " +
                "before api's build that provides v3 gets any (or roll back api)",
        ]);
    });

    it("refuses a callee's previous colour kept warm that the caller's live build does not accept: finish the callee first", () => {
        const raw = checkout();
        raw.services.api.traffic = { live: "green", previous: "blue" };
        raw.services.web.slots.green.requires = { api: [3] };
        raw.services.web.traffic = { live: "green" };
        assert.deepEqual(problemsOf(raw), [
            "switchyard:services.web.slots.green: web green (web@sha256:dddddddddddd, live) requires api [3], but api blue " +
                "(web@sha256:bbbbbbbbbbbb, previous) provides 2 and both have traffic or are kept warm for it; finish api first: its " +
                "blue, kept warm for rollback, provides v2; web's build that requires [3] may have traffic once api is finished " +
                "(or move web's traffic back)",
        ]);
    });

    it("refuses a callee version the caller's previous colour does not accept: finish or roll back the caller first", () => {
        const raw = checkout();
        raw.services.web.traffic = { live: "green", previous: "blue" }; // web blue requires [2]
        raw.services.api.traffic = { live: "green" }; // api v3 only
        assert.deepEqual(problemsOf(raw), [
            "switchyard:services.web.slots.blue: web blue (web@sha256:aaaaaaaaaaaa, previous) requires api [2], but api green " +
                "(web@sha256:cccccccccccc, live) provides 3 and both have traffic or are kept warm for it; finish web first (or roll " +
                "back web): its blue, kept warm for rollback, requires api [2], so api's build that provides v3 may have traffic " +
                "only once web is finished",
        ]);
    });

    it("refuses requirements on services the stack does not have or on the build's own service, on any slot", () => {
        const raw = checkout();
        raw.services.web.traffic = { live: "blue" };
        raw.services.web.slots.green.requires = { api: [3], cart: { min: 1, max: 2 }, web: [1] };
        assert.deepEqual(problemsOf(raw), [
            "switchyard:services.web.slots.green.requires.cart names a service this stack does not have (its services: web, api); " +
                "add cart to switchyard:services, or remove it",
            "switchyard:services.web.slots.green.requires.web names the build's own service; a build needs no declaration to work " +
                "with itself: remove it",
        ]);
    });

    it("refuses a requirement in the single-service form (one service: it can only name one the stack does not have)", () => {
        const raw = baseRaw();
        raw.slots.blue = { image: A, provides: 1, requires: { api: [2] } };
        assert.deepEqual(problemsOf(raw), [
            "switchyard:slots.blue.requires.api names a service this stack does not have: a single-service stack has only web; " +
                "to declare what web calls, move it and api into switchyard:services, or remove api",
        ]);
        // provides alone is valid there (another stack's services may call it).
        const single = baseRaw();
        single.slots.blue = { image: A, provides: 4 };
        assert.equal(parseStack(single, "dev").services[0].slots.blue!.provides, 4);
    });

    it("refuses malformed provides and requires, each by its key", () => {
        const raw = checkout();
        raw.services.api.slots.blue.provides = "two";
        raw.services.web.slots.blue.requires = {};
        raw.services.web.slots.green.requires = { api: [] };
        // In stack-file order: web's entry comes first in servicesRaw.
        assert.deepEqual(problemsOf(raw), [
            "switchyard:services.web.slots.blue.requires must name at least one service and the versions of it this build works " +
                "with, e.g. requires: { api: [2, 3] }, or be removed",
            "switchyard:services.web.slots.green.requires.api must list at least one version of api (e.g. [3, 4]) or be {min, max}",
            "switchyard:services.api.slots.blue.provides must be a whole number 0..1000000 (got 'two')",
        ]);
    });

    it("reports every co-existence problem at once, with the rest of the file's", () => {
        const raw = checkout();
        raw.services.web.slots.green.requires = { api: [3] };
        raw.services.web.slots.blue.requires = { api: [2], cart: [1] };
        raw.services.web.traffic.routes = [{ color: "green", header: { name: "x-beta", values: ["1"] } }];
        assert.deepEqual(problemsOf(raw), [
            "switchyard:services.web.slots.blue.requires.cart names a service this stack does not have (its services: web, api); " +
                "add cart to switchyard:services, or remove it",
            "switchyard:services.web.slots.green: web green (web@sha256:dddddddddddd, canary 10%, traffic.routes[0]) requires api [3], " +
                "but api blue (web@sha256:bbbbbbbbbbbb, live) provides 2 and both have traffic; move api first: its v3 must have " +
                "traffic before web's build that requires [3] gets any, and its v2 must have none by then (or move web's traffic back)",
        ]);
    });

    // Any colour with traffic of a caller may reach any colour with traffic of its callee: a forward
    // action "distributes requests among multiple target groups" by weight, and stickiness keeps
    // "requests from a client" on one target group (botocore elbv2 service-2.json: Action.ForwardConfig,
    // TargetGroupStickinessConfig.DurationSeconds), a client being the browser, not the caller's server.
    // So the oracle pairs every serving colour of the caller with every serving colour of the callee.
    describe("property: refuses exactly the states with an incompatible pair that both have traffic", () => {
        const NAMES = ["web", "api", "auth"] as const;
        type Colour = "blue" | "green";
        const other = (c: Colour): Colour => (c === "blue" ? "green" : "blue");
        const versions = fc.oneof(
            fc.uniqueArray(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
            fc
                .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }))
                .map(([a, b]) => ({ min: Math.min(a, b), max: Math.max(a, b) })),
        );
        const slot = (count: number, self: number) =>
            fc.record({
                provides: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
                requires: fc
                    .array(fc.tuple(fc.integer({ min: 0, max: count - 1 }), versions), { maxLength: 2 })
                    .map((list) => Object.fromEntries(list.filter(([i]) => i !== self).map(([i, v]) => [NAMES[i], v]))),
            });
        const service = (count: number, self: number) =>
            fc.record({
                blue: slot(count, self),
                green: slot(count, self),
                live: fc.constantFrom<Colour>("blue", "green"),
                canary: fc.boolean(),
                route: fc.boolean(),
                previous: fc.boolean(),
            });
        const stack = fc
            .integer({ min: 2, max: 3 })
            .chain((count) => fc.tuple(...Array.from({ length: count }, (_, i) => service(count, i))));
        type Generated = { blue: Slot; green: Slot; live: Colour; canary: boolean; route: boolean; previous: boolean };
        type Slot = { provides?: number; requires: Record<string, number[] | { min: number; max: number }> };

        /** The oracle, from the raw description alone: which colours serve, and whether each pair agrees. */
        function hasIncompatiblePair(services: Generated[]): boolean {
            const serving = (s: Generated): Colour[] =>
                (["blue", "green"] as Colour[]).filter((c) => c === s.live || (c !== s.live && (s.canary || s.route || s.previous)));
            const accepts = (r: number[] | { min: number; max: number }, v: number) =>
                Array.isArray(r) ? r.includes(v) : r.min <= v && v <= r.max;
            return services.some((caller) =>
                serving(caller).some((c) =>
                    Object.entries(caller[c].requires).some(([name, range]) => {
                        const callee = services[NAMES.indexOf(name as (typeof NAMES)[number])];
                        return serving(callee).some((d) => callee[d].provides === undefined || !accepts(range, callee[d].provides!));
                    }),
                ),
            );
        }

        function rawOf(services: Generated[]): Record<string, any> {
            const entries: Record<string, any> = {};
            services.forEach((s, i) => {
                const slotOf = (c: Colour, hex: string) => ({
                    image: digest(hex),
                    ...(s[c].provides !== undefined ? { provides: s[c].provides } : {}),
                    ...(Object.keys(s[c].requires).length > 0 ? { requires: s[c].requires } : {}),
                });
                const candidate = other(s.live);
                entries[NAMES[i]] = {
                    match: i === 0 ? { priority: 40000 } : { paths: [`/${NAMES[i]}/*`], priority: 100 * i },
                    service: { port: 8080 },
                    slots: { blue: slotOf("blue", String(i * 2 + 1)), green: slotOf("green", String(i * 2 + 2)) },
                    traffic: {
                        live: s.live,
                        ...(s.canary ? { canary: { percent: 10 } } : {}),
                        ...(s.route ? { routes: [{ color: candidate, header: { name: "x-beta", values: ["1"] } }] } : {}),
                        ...(s.previous ? { previous: candidate } : {}),
                    },
                };
            });
            return { testAccess: { cidrs: ["203.0.113.0/24"] }, loadBalancer: { default: "web" }, services: entries };
        }

        it("over two and three services with random provides, requires and traffic (fast-check)", () => {
            fc.assert(
                fc.property(stack, (services) => {
                    const raw = rawOf(services);
                    const bad = hasIncompatiblePair(services);
                    let problems: readonly string[] = [];
                    try {
                        parseStack(raw, "dev");
                    } catch (e) {
                        if (!(e instanceof ConfigError)) throw e;
                        problems = e.problems;
                    }
                    assert.equal(problems.length > 0, bad, problems.join("\n"));
                    // Only co-existence problems: the generated stacks are otherwise valid.
                    for (const problem of problems)
                        assert.match(problem, /^switchyard:services\.\w+\.slots\.(blue|green)(\.provides is required)?:? /);
                }),
                { numRuns: 300 },
            );
        });
    });

    // The one writer of stack files validates the edited file with parseStack; the guard's refusal
    // is exit 2 (issue 17: "exit 2, nothing written, the same words"; cli/stackFile.ts renderValidEdits).
    it("the release tool refuses such a canary (exit 2), in the same words, and writes nothing", async () => {
        const text = `config:
  aws:region: eu-west-1
  switchyard:testAccess:
    cidrs: [203.0.113.0/24]
  switchyard:loadBalancer:
    default: web
  switchyard:services:
    api:
      match: { paths: [/api/*], priority: 100 }
      slots:
        blue: { image: ${B}, provides: 2 }
        green: { image: ${C}, provides: 3 }
      traffic:
        live: blue
    web:
      match: { priority: 40000 }
      slots:
        blue: { image: ${A}, requires: { api: [2] } }
        green: { image: ${D}, requires: { api: [3] } }
      traffic:
        live: blue
`;
        const dir = stackDir({ dev: text });
        const r = await run(["canary", "--stack", "dev", "--service", "web", "--percent", "10", "--dir", dir]);
        assert.equal(r.code, 2, r.out + r.err);
        assert.equal(
            r.err,
            `switchyard: the change would make ${path.join(dir, "Pulumi.dev.yaml")} invalid, so nothing was written.\n` +
                `  - switchyard:services.web.slots.green: ${WEB_GREEN_CANARY} requires api [3], but ${API_BLUE_LIVE} provides 2 and both ` +
                "have traffic; move api first: its v3 must have traffic before web's build that requires [3] gets any, and its v2 " +
                "must have none by then (or move web's traffic back)",
        );
        assert.equal(r.out, "");
        assert.equal(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"), text);
    });
});
