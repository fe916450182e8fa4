/**
 * The shared edge's rules against what AWS documents (issue 16): each limit the rule layout
 * (lib/ruleLayout.ts) and the match parser (lib/parse/services.ts, lib/parse/albRules.ts) rely
 * on, with its source; where botocore's elbv2 model states it, the test reads it from there.
 */
import { strict as assert } from "node:assert";
import { parseStack } from "../../lib/config";
import { PATH_VALUE, patternCovers, ruleLimitProblems } from "../../lib/parse/albRules";
import { ConfigError } from "../../lib/problems";
import { ALB_QUOTAS, MAX_MATCH_PRIORITY, RULE_BLOCK, ruleLayout } from "../../lib/ruleLayout";
import { digest } from "../helpers/configs";
import { servicesRaw } from "../helpers/servicesConfigs";
import { apiModel, memberDocs, plainText } from "./apiModels";

function problemsOf(raw: Record<string, any>): string[] {
    try {
        parseStack(raw, "dev");
        return [];
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return [...e.problems];
    }
}

/** `count` services on /s<i>/*, blocks 100 apart, no default. */
function manyServices(count: number, maxRules: number): Record<string, any> {
    return {
        testAccess: { cidrs: ["203.0.113.0/24"] },
        loadBalancer: { maxRules },
        services: Object.fromEntries(
            Array.from({ length: count }, (_, i) => [
                `s${i}`,
                {
                    match: { paths: [`/s${i}/*`], priority: 1 + i * RULE_BLOCK },
                    slots: { blue: { image: digest("a") } },
                    traffic: { live: "blue" },
                },
            ]),
        ),
    };
}

describe("reality: the shared edge's listener rules (issue 16)", () => {
    // "Rules per Application Load Balancer (excluding default rules)": default 100, adjustable.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
    it("counts the rules of both listeners against maxRules, 100 unless raised, default actions not counted", () => {
        assert.equal(ALB_QUOTAS.rulesPerLoadBalancer, 100);
        // 50 services without a default: a forward and a test rule each, 100 rules.
        assert.equal(ruleLayout(parseStack(manyServices(50, 1000), "dev")).length, 100);
        assert.deepEqual(problemsOf(manyServices(50, 100)), []);
        const over = manyServices(50, 100);
        over.services.s0.slots.green = { image: digest("b") };
        over.services.s0.traffic.routes = [{ color: "green", header: { name: "x-beta", values: ["1"] } }];
        assert.deepEqual(problemsOf(over), [
            `switchyard:loadBalancer.maxRules is 100, but the stack needs 101 listener rules on the load balancer (production and test listeners; ${[
                "s0 3",
                ...Array.from({ length: 49 }, (_, i) => `s${i + 1} 2`),
            ].join(
                ", ",
            )}): remove routes or services, or raise the account's "Rules per Application Load Balancer" quota and then maxRules`,
        ]);
    });

    // "Target Groups per Application Load Balancer": 100, not adjustable (same page); a blue-green
    // service has two target groups (lib/traffic.ts fleetColors).
    it("refuses more than 100 target groups on the load balancer, whatever maxRules says", () => {
        assert.equal(ALB_QUOTAS.targetGroupsPerLoadBalancer, 100);
        assert.deepEqual(problemsOf(manyServices(50, 1000)), []);
        assert.deepEqual(problemsOf(manyServices(51, 1000)), [
            "switchyard:services has 51 services with 102 target groups (one per colour), more than the 100 an ALB takes (a quota AWS does not raise): put some services in another stack",
        ]);
    });

    // RulePriority: integer 1..50000 (elbv2 service-2.json). A block's last priority is match.priority + 99.
    it("keeps every block within the rule priorities the API takes", () => {
        const { min, max } = apiModel("elbv2").shapes.RulePriority;
        assert.deepEqual([min, max], [1, 50000]);
        const shape = { max: max! };
        assert.equal(MAX_MATCH_PRIORITY + RULE_BLOCK - 1, shape.max);
        const raw = servicesRaw();
        raw.services.web.match.priority = MAX_MATCH_PRIORITY;
        raw.services.web.slots.green = { image: digest("d") };
        raw.services.web.traffic.routes = [{ color: "green", priority: 99, header: { name: "x-beta", values: ["1"] } }];
        assert.deepEqual(
            ruleLayout(parseStack(raw, "dev"))
                .filter((r) => r.service === "web")
                .map((r) => r.priority),
            [shape.max - 1],
        );
        raw.services.api.match.priority = MAX_MATCH_PRIORITY - RULE_BLOCK;
        assert.deepEqual(
            ruleLayout(parseStack(raw, "dev"))
                .filter((r) => r.kind === "forward")
                .map((r) => r.priority),
            [shape.max - RULE_BLOCK],
        );
    });

    // RuleCondition: "Each rule can optionally include up to one of each of the following
    // conditions: http-request-method, host-header, path-pattern, and source-ip. Each rule can also
    // optionally include one or more of each of the following conditions: http-header and
    // query-string." (elbv2 service-2.json; API_RuleCondition.html)
    it("allows one host-header, path-pattern and source-ip condition per rule, any number of header and query conditions", () => {
        const model = apiModel("elbv2");
        // plainText leaves a space where a <code> tag closed: "host-header , path-pattern".
        const doc = plainText(model.shapes.RuleCondition.documentation ?? "").replace(/ ([,.])/g, "$1");
        assert.match(doc, /up to one of each of the following conditions: http-request-method, host-header, path-pattern, and source-ip/);
        assert.match(doc, /one or more of each of the following conditions: http-header and query-string/);
        const twice = (condition: object) => [
            { key: "a", condition },
            { key: "b", condition },
        ];
        assert.deepEqual(
            ruleLimitProblems(twice({ hostHeader: { values: ["a.example.com"] } })).map((p) => p.problem),
            [
                "has 2 host-header conditions (a, b); an ALB rule takes at most one: give the hosts in one place, the service's match or the route",
            ],
        );
        assert.deepEqual(
            ruleLimitProblems(twice({ pathPattern: { values: ["/a"] } })).map((p) => p.problem),
            ["has 2 path-pattern conditions (a, b); an ALB rule takes at most one: give the paths in one place"],
        );
        assert.deepEqual(
            ruleLimitProblems(twice({ sourceIp: { values: ["203.0.113.0/24"] } })).map((p) => p.problem),
            ["has 2 source-ip conditions (a, b); an ALB rule takes at most one: give the source ranges in one place"],
        );
        assert.deepEqual(ruleLimitProblems(twice({ httpHeader: { httpHeaderName: "x", values: ["1"] } })), []);
        assert.deepEqual(ruleLimitProblems(twice({ queryStrings: [{ key: "a", value: "1" }] })), []);
    });

    // RuleCondition.Values: "A path pattern is case-sensitive, can be up to 128 characters in
    // length, and can contain any of the following characters. A-Z, a-z, 0-9 _ - . $ / ~ " ' @ : +
    // & (using &amp;) * (matches 0 or more characters) ? (matches exactly 1 character)".
    it("takes exactly the path-pattern characters and length the elbv2 model documents", () => {
        const doc = memberDocs(apiModel("elbv2"), "RuleCondition", "Values");
        const listed =
            /A path pattern is case-sensitive, can be up to (\d+) characters in length, and can contain any of the following characters\. A-Z, a-z, 0-9 (.*?) & \(using &amp;\) \* \(matches 0 or more characters\) \? \(matches exactly 1 character\)/.exec(
                doc,
            );
        assert.ok(listed, doc);
        const symbols = new Set([...listed[2].replace(/\s/g, ""), "&", "*", "?"]);
        assert.deepEqual([...symbols].sort().join(""), `"$&'*+-./:?@_~`);
        for (let code = 0x21; code <= 0x7e; code++) {
            const c = String.fromCharCode(code);
            const allowed = /[A-Za-z0-9]/.test(c) || symbols.has(c);
            assert.equal(PATH_VALUE.pattern.test(`/a${c}`), allowed, `'${c}'`);
        }
        assert.equal(PATH_VALUE.pattern.test("/ a"), false);
        const max = Number(listed[1]);
        assert.equal(max, 128);
        assert.equal(PATH_VALUE.pattern.test(`/${"a".repeat(max - 1)}`), true);
        assert.equal(PATH_VALUE.pattern.test(`/${"a".repeat(max)}`), false);
    });

    // PathPatternConditionConfig.Values: "The comparison is case sensitive. The following wildcard
    // characters are supported: * (matches 0 or more characters) and ? (matches exactly 1
    // character)."; host names are "case insensitive" (RuleCondition.Values). Both from elbv2 service-2.json.
    it("decides coverage with the ALB's wildcards: paths case-sensitively, hosts case-insensitively", () => {
        const model = apiModel("elbv2");
        assert.match(memberDocs(model, "PathPatternConditionConfig", "Values"), /The comparison is case sensitive/);
        assert.match(memberDocs(model, "RuleCondition", "Values"), /A host name is case insensitive/);
        const cases: [string, string, boolean, boolean][] = [
            ["/api/*", "/api/admin/*", false, true],
            ["/api/*", "/api", false, false], // `*` after "/api/" needs the slash
            ["/api*", "/api", false, true],
            ["/api/?", "/api/x", false, true],
            ["/api/?", "/api/*", false, false], // `*` may be empty or long, `?` is exactly one
            ["/API/*", "/api/x", false, false],
            ["*.example.com", "API.Example.com", true, true],
            ["api.example.com", "*.example.com", true, false],
            ["*", "/anything/*", false, true],
        ];
        for (const [broad, narrow, ignoreCase, covers] of cases) {
            assert.equal(patternCovers(broad, narrow, ignoreCase), covers, `${broad} covers ${narrow}`);
        }
    });
});
