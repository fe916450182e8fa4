/**
 * ALB listener rules: what `CreateRule` accepts and what a rule means. Each check cites its
 * source; the config model (lib/parse/albRules.ts, lib/parse/traffic.ts) refuses the same things
 * before anything is registered, and these tests check every rule the tested stacks register.
 */
import { strict as assert } from "node:assert";
import { parseConfig } from "../../lib/config";
import { ConfigError } from "../../lib/problems";
import { cookieRegex } from "../../lib/parse/albRules";
import { Recorded } from "../helpers/mocks";
import { baseRaw, digest } from "../helpers/configs";
import { ofType } from "../helpers/program";
import { evaluatedScenarios } from "./scenarios";

const RULE = "aws:lb/listenerRule:ListenerRule";

function problemsOf(raw: Record<string, any>): string[] {
    try {
        parseConfig(raw, "dev");
        return [];
    } catch (err) {
        if (err instanceof ConfigError) return [...err.problems];
        throw err;
    }
}

function withRoute(route: Record<string, unknown>): Record<string, any> {
    const raw = baseRaw();
    raw.slots.green = { image: digest("b") };
    raw.traffic.routes = [{ color: "green", ...route }];
    return raw;
}

/** Every value-matching string and regex of a registered condition. */
function matchValues(c: any): string[] {
    if (c.httpHeader) return [...(c.httpHeader.values ?? []), ...(c.httpHeader.regexValues ?? [])];
    if (c.hostHeader) return c.hostHeader.values;
    if (c.sourceIp) return c.sourceIp.values;
    return c.queryStrings.map((q: any) => `${q.key}=${q.value}`);
}

async function allRules(): Promise<{ title: string; rule: Recorded; all: Recorded[] }[]> {
    return (await evaluatedScenarios()).flatMap((s) =>
        ofType(s.evaluation.resources, RULE).map((rule) => ({ title: s.title, rule, all: s.evaluation.resources })),
    );
}

describe("reality: ALB listener rules", () => {
    before(async function () {
        this.timeout(60000);
        await evaluatedScenarios();
    });

    it("the tested stacks register rules at each limit (so the checks below check something)", async () => {
        const rules = (await allRules()).map((r) => r.rule.inputs.conditions as any[]);
        assert.ok(rules.length >= 10, `only ${rules.length} rules`);
        assert.ok(
            rules.some((cs) => cs.reduce((n, c) => n + matchValues(c).length, 0) === 5),
            "a rule with 5 values",
        );
        assert.ok(
            rules.some((cs) => cs.some((c) => matchValues(c).length === 3)),
            "a condition with 3 values",
        );
        assert.ok(
            rules.some((cs) => cs.some((c) => c.httpHeader?.regexValues?.[0].length === 128)),
            "a 128-character cookie regex",
        );
    });

    // "You can specify up to three match evaluations per condition [...] up to five match
    // evaluations per rule." https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
    it("every registered rule has at most 3 values per condition and 5 per rule", async () => {
        for (const { title, rule } of await allRules()) {
            const counts = (rule.inputs.conditions as any[]).map((c) => matchValues(c).length);
            assert.ok(
                counts.every((n) => n >= 1 && n <= 3),
                `${title} ${rule.name}: ${counts}`,
            );
            assert.ok(counts.reduce((a, b) => a + b, 0) <= 5, `${title} ${rule.name}: ${counts}`);
        }
    });

    // "Each rule can optionally include up to one of each of the following conditions: host-header,
    // http-request-method, path-pattern, and source-ip." Same page, and API_RuleCondition.html.
    it("every registered rule has at most one host-header and one source-ip condition", async () => {
        for (const { title, rule } of await allRules()) {
            const cs = rule.inputs.conditions as any[];
            assert.ok(cs.filter((c) => c.hostHeader).length <= 1, `${title} ${rule.name}`);
            assert.ok(cs.filter((c) => c.sourceIp).length <= 1, `${title} ${rule.name}`);
        }
    });

    // "You can include wildcard characters in the match evaluations for the http-header,
    // host-header, path-pattern, and query-string conditions. There is a limit of five wildcard
    // characters per rule." Same page.
    it("every registered rule has at most 5 wildcards in its value matches", async () => {
        for (const { title, rule } of await allRules()) {
            const strings = (rule.inputs.conditions as any[]).flatMap((c) =>
                c.sourceIp
                    ? []
                    : c.queryStrings
                      ? c.queryStrings.flatMap((q: any) => [q.key, q.value])
                      : (c.httpHeader?.values ?? c.hostHeader?.values ?? []),
            );
            const wildcards = strings.join("").replace(/[^*?]/g, "").length;
            assert.ok(wildcards <= 5, `${title} ${rule.name}: ${wildcards} wildcards`);
        }
    });

    // HttpHeaderConditionConfig: name at most 40 characters, not the host header; each value and
    // regex at most 128 characters. https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html
    // Visible ASCII only (rule-condition-types.html, "Condition basics").
    it("every registered value is 1-128 visible ASCII characters, and header names are 1-40 and not Host", async () => {
        for (const { title, rule } of await allRules()) {
            for (const c of rule.inputs.conditions as any[]) {
                for (const v of matchValues(c)) assert.match(v, /^[\x20-\x7e]{1,128}$/, `${title} ${rule.name}`);
                if (c.httpHeader) {
                    assert.match(c.httpHeader.httpHeaderName, /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/);
                    assert.notEqual(c.httpHeader.httpHeaderName.toLowerCase(), "host");
                }
            }
        }
    });

    // CreateRule: Priority 1..50000, unique per listener.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html
    it("every registered rule has a priority 1..50000, unique on its listener", async () => {
        for (const s of await evaluatedScenarios()) {
            const rules = ofType(s.evaluation.resources, RULE);
            const priorities = rules.map((r) => `${r.inputs.listenerArn}#${r.inputs.priority}`);
            assert.equal(new Set(priorities).size, priorities.length, s.title);
            assert.ok(
                rules.every((r) => r.inputs.priority >= 1 && r.inputs.priority <= 50000),
                s.title,
            );
        }
    });

    describe("refused before anything is registered, naming the key", () => {
        const cases: [string, Record<string, unknown>, string][] = [
            [
                "a header with 4 values",
                { header: { name: "x-user", values: ["a", "b", "c", "d"] } },
                "switchyard:traffic.routes[0].header.values has 4 values; an ALB condition matches at most 3 (any one of them) and a rule allows one such condition: split them over several routes",
            ],
            [
                "4 source networks",
                { sourceIps: ["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12", "203.0.113.0/24"] },
                "switchyard:traffic.routes[0].sourceIps has 4 values; an ALB condition matches at most 3",
            ],
            [
                "4 hosts",
                { hosts: ["a.example.com", "b.example.com", "c.example.com", "d.example.com"] },
                "switchyard:traffic.routes[0].hosts has 4 values; an ALB condition matches at most 3",
            ],
            [
                "6 query keys",
                { query: { a: "1", b: "2", c: "3", d: "4", e: "5", f: "6" } },
                "switchyard:traffic.routes[0] has 6 condition values; an ALB rule allows at most 5: split it into several routes",
            ],
            [
                "6 wildcards",
                { header: { name: "x-user", values: ["*a*", "*b*"] }, hosts: ["*.*.example.com"] },
                "switchyard:traffic.routes[0] has 6 wildcards (* and ?); an ALB rule allows at most 5: use fewer, or split the route",
            ],
            [
                "a cookie whose pattern exceeds 128 characters",
                { cookie: { name: "n".repeat(40), value: "v".repeat(60) } },
                "switchyard:traffic.routes[0].cookie is too long: its ALB pattern has 136 characters, at most 128; shorten the name or value",
            ],
            [
                "a header condition on Host",
                { header: { name: "Host", values: ["a.example.com"] } },
                "switchyard:traffic.routes[0].header.name cannot be Host (the ALB refuses it): use hosts instead",
            ],
            [
                "a header value with a control character",
                { header: { name: "x-user", values: ["a\tb"] } },
                "switchyard:traffic.routes[0].header.values[0] must be 1-128 visible ASCII characters",
            ],
            [
                "a host without a top-level domain",
                { hosts: ["localhost"] },
                "switchyard:traffic.routes[0].hosts[0] must be a host name of at most 128 characters",
            ],
            [
                "a query value with a space",
                { query: { q: "a b" } },
                "switchyard:traffic.routes[0].query.q must be 1-128 characters: letters, digits",
            ],
        ];
        for (const [what, route, message] of cases) {
            it(what, () => {
                const problems = problemsOf(withRoute(route));
                assert.ok(
                    problems.some((p) => p.startsWith(message)),
                    `expected a problem starting with:\n  ${message}\ngot:\n  ${problems.join("\n  ")}`,
                );
            });
        }

        it("accepts each limit exactly (3 values, 5 per rule, 5 wildcards, a 128-character cookie pattern)", () => {
            const name = "n".repeat(40);
            const value = "v".repeat(128 - cookieRegex(name, "").length);
            assert.deepEqual(
                problemsOf(
                    withRoute({
                        header: { name: "x-user", values: ["*a*", "*b*", "c?"] },
                        cookie: { name, value },
                        hosts: ["x.example.com"],
                    }),
                ),
                [],
            );
        });
    });

    describe("semantics", () => {
        // Values inside one condition are ORed: "The condition is satisfied if one of the strings
        // matches [...] To require that all of the strings are a match, create one condition per
        // match evaluation." rule-condition-types.html and API_QueryStringConditionConfig.html.
        it("a query route needs every pair: one query-string condition per key (defect 2)", async () => {
            const s = (await evaluatedScenarios()).find((x) =>
                ofType(x.evaluation.resources, RULE).some((r) => r.inputs.conditions.filter((c: any) => c.queryStrings).length === 5),
            );
            assert.ok(s, "a generated stack with a 5-key query route");
            for (const rule of ofType(s.evaluation.resources, RULE)) {
                for (const c of rule.inputs.conditions.filter((x: any) => x.queryStrings)) assert.equal(c.queryStrings.length, 1);
            }
        });

        // A wildcard `*beta=1*` also matches `xbeta=1` and `beta=10`. The route uses a regex on the
        // Cookie header instead (http-header regexValues, provider 7.48.0 types/input.d.ts
        // ListenerRuleConditionHttpHeader; regex conditions: listener-rules.html "Rule basics").
        it("a cookie route matches exactly that cookie, wherever it is in the header (defect 3)", () => {
            const re = new RegExp(cookieRegex("beta", "1"));
            for (const header of ["beta=1", "a=b; beta=1", "beta=1; c=d", "a=b;beta=1;c=d"]) assert.ok(re.test(header), header);
            for (const header of ["xbeta=1", "beta=10", "a=xbeta=1", "beta=1x; c=d", "a=b; beta=2", "beta"])
                assert.ok(!re.test(header), header);
            const special = new RegExp(cookieRegex("a.b", "1+2"));
            assert.ok(special.test("a.b=1+2") && !special.test("axb=1+2") && !special.test("a.b=11+2"));
        });
    });
});
