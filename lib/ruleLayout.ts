/**
 * Where every listener rule of a stack sits: its listener, priority, logical name and conditions.
 * One pure function (`ruleLayout`) that the checks, the components and `plan` all use, and the
 * checks on it, run before anything is registered.
 *
 * The layout keeps priorities stable: each service owns a block of RULE_BLOCK priorities from its
 * `match.priority`, and a rule's place in the block follows what it is (a route's own priority,
 * the forward last), so adding, removing or reordering services or routes never moves a rule
 * that stays. Logical names follow the service and the rule, never a list position.
 *
 * AWS limits used here, each with its source:
 * - "Rules per Application Load Balancer (excluding default rules)": 100 by default, adjustable;
 *   "Target Groups per Application Load Balancer": 100, not adjustable.
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
 * - Rule priorities 1..50000 (RulePriority in botocore's elbv2 service-2.json; MAX_ROUTE_PRIORITY).
 * - Rules are evaluated "in priority order, from the lowest value to the highest value", the
 *   default rule last; the first rule whose conditions match decides.
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html
 * - Per-rule condition limits: lib/parse/albRules.ts.
 */
import { Route } from "./model";
import { RuleCondition, SourcedCondition, patternCovers, routeConditions, ruleLimitProblems, valuesCover } from "./parse/albRules";
import { MAX_ROUTE_PRIORITY } from "./parse/traffic";
import { ServiceMatch, ServiceSpec, StackSpec, isDefaultService } from "./stackSpec";
import { fleetColors } from "./traffic";

/** Priorities each service with a match owns: its routes at offsets 0..98, its forward at 99. */
export const RULE_BLOCK = 100;

/** The highest `match.priority`: the block's last priority must be a valid rule priority. */
export const MAX_MATCH_PRIORITY = MAX_ROUTE_PRIORITY - RULE_BLOCK + 1;

/** The highest route priority in `switchyard:services`: offsets 0..98, the forward takes 99. */
export const MAX_SERVICE_ROUTE_PRIORITY = RULE_BLOCK - 1;

export const ALB_QUOTAS = {
    /** "Rules per Application Load Balancer (excluding default rules)", default 100, adjustable. */
    rulesPerLoadBalancer: 100,
    /** "Target Groups per Application Load Balancer", 100, not adjustable. */
    targetGroupsPerLoadBalancer: 100,
} as const;

export interface PlannedRule {
    readonly listener: "production" | "test";
    readonly service: string;
    readonly kind: "route" | "forward" | "test";
    /** What CreateRule gets. */
    readonly priority: number;
    /** Never derived from a list position. */
    readonly logicalName: string;
    /** Kind "route": the route, and its position in the service's `traffic.routes`. */
    readonly route?: Route;
    readonly routeIndex?: number;
    /** Exactly what the ListenerRule gets: the service's match conditions, then the route's. */
    readonly conditions: RuleCondition[];
}

/** Every rule of the stack: services in stack-file order, each service's routes, forward, test rule. */
export function ruleLayout(spec: StackSpec): PlannedRule[] {
    return spec.services.flatMap((service) => serviceRules(spec, service));
}

/** One service's rules, in the shape BlueGreenService takes (components/blueGreenService.ts ServiceRules). */
export interface ServiceRules {
    /** One per `traffic.routes` entry, in the same order. */
    readonly routes: readonly PlannedRule[];
    /** The weighted forward, when the listeners' default action is not this service's. */
    readonly forward?: PlannedRule;
    /** The test listener's rule to the candidate, when that listener's default action is not this service's. */
    readonly test?: PlannedRule;
}

export function rulesOf(spec: StackSpec, serviceName: string): ServiceRules {
    const service = spec.services.find((s) => s.service.name === serviceName);
    if (!service) throw new Error(`no service '${serviceName}' in stack ${spec.stack}`);
    const rules = serviceRules(spec, service);
    return {
        routes: rules.filter((r) => r.kind === "route"),
        forward: rules.find((r) => r.kind === "forward"),
        test: rules.find((r) => r.kind === "test"),
    };
}

/** The first priority of a service's rules: its match's, or 1 (routes at their own priorities, as in the single form). */
function blockStart(service: ServiceSpec): number {
    return service.match?.priority ?? 1;
}

function serviceRules(spec: StackSpec, service: ServiceSpec): PlannedRule[] {
    const name = service.service.name;
    const start = blockStart(service);
    const match = matchConditions(service.match).map((c) => c.condition);
    const rules: PlannedRule[] = service.traffic.routes.map((route, routeIndex) => ({
        listener: "production",
        service: name,
        kind: "route",
        priority: start + route.priority - 1,
        logicalName: `${name}-route-p${route.priority}`,
        route,
        routeIndex,
        conditions: [...match, ...routeConditions(route).map((c) => c.condition)],
    }));
    if (!isDefaultService(spec, service)) {
        rules.push(
            {
                listener: "production",
                service: name,
                kind: "forward",
                priority: start + RULE_BLOCK - 1,
                logicalName: `${name}-forward`,
                conditions: [...match],
            },
            { listener: "test", service: name, kind: "test", priority: start, logicalName: `${name}-test`, conditions: [...match] },
        );
    }
    return rules;
}

/** A service's match as rule conditions, keyed relative to the service (`match.paths`). */
function matchConditions(match: ServiceMatch | undefined): SourcedCondition[] {
    const out: SourcedCondition[] = [];
    if (match?.paths.length) out.push({ key: "match.paths", condition: { pathPattern: { values: [...match.paths] } } });
    if (match?.hosts.length) out.push({ key: "match.hosts", condition: { hostHeader: { values: [...match.hosts] } } });
    return out;
}

/** `switchyard:<keyPath>.<rest>`: where a service's key lives in the stack file. */
function keyOf(service: ServiceSpec, rest: string): string {
    return `switchyard:${[...service.keyPath, rest].join(".")}`;
}

function describeMatch(match: ServiceMatch): string {
    const parts = [
        match.paths.length ? `paths ${match.paths.join(", ")}` : "",
        match.hosts.length ? `hosts ${match.hosts.join(", ")}` : "",
    ];
    return parts.filter(Boolean).join("; ");
}

/**
 * Everything about the layout the ALB would refuse, or that would route requests elsewhere than
 * the stack file says, each naming its key and the fix. Empty when the layout is sound.
 */
export function layoutProblems(spec: StackSpec): string[] {
    const rules = ruleLayout(spec);
    return [
        ...blockProblems(spec),
        ...defaultLastProblems(spec),
        ...coverProblems(spec),
        ...quotaProblems(spec, rules),
        ...ruleConditionProblems(spec, rules),
        ...probeProblems(spec),
    ];
}

/**
 * The health gate's probe (`service.gateProbePath`) requests `<scheme>://<load balancer DNS
 * name>:<test port><path>` (components/blueGreenService.ts). On a shared edge a service other
 * than the default gets its candidate on the test listener only through its test rule, whose
 * conditions are its match: the probe's Host header is the load balancer's own name, so a match
 * on hosts never sees it, and its path must be one the match's paths take. Otherwise the probe
 * reaches the test listener's default action (another service's candidate, or the fixed 404) and
 * the gate judges the wrong build or times out on every canary.
 */
function probeProblems(spec: StackSpec): string[] {
    if (spec.form === "single") return [];
    return spec.services.flatMap((service) => {
        const path = service.service.gateProbePath;
        if (path === undefined || isDefaultService(spec, service) || !service.match) return [];
        const key = `switchyard:services.${service.service.name}`;
        if (service.match.hosts.length > 0) {
            return [
                `${key}.service.gateProbePath cannot be used with ${key}.match.hosts: the probe's Host is the load balancer's ` +
                    `own name, which the test rule's host condition never matches; remove gateProbePath (the gate still waits ` +
                    `for healthy targets and quiet alarms) or match this service by paths only`,
            ];
        }
        if (!service.match.paths.some((pattern) => patternCovers(pattern, path, false))) {
            return [
                `${key}.service.gateProbePath ${path} is not taken by ${key}.match.paths (${service.match.paths.join(", ")}): ` +
                    `the probe would reach another service's candidate or the 404; use a path the match takes, e.g. ` +
                    `${service.match.paths[0].replace(/\*$/, "")}healthz`,
            ];
        }
        return [];
    });
}

/**
 * Blocks may not overlap: two rules of one listener can never hold one priority (CreateRule and
 * SetRulePriorities fail with PriorityInUse). Inside a block every priority is distinct (route
 * priorities are unique and at most 99, the forward takes the 100th, the test rule is alone on
 * its listener), so disjoint blocks are exactly "no priority used twice on a listener".
 */
function blockProblems(spec: StackSpec): string[] {
    const withMatch = spec.services.filter((s) => s.match !== undefined);
    const problems: string[] = [];
    withMatch.forEach((a, i) => {
        for (const b of withMatch.slice(i + 1)) {
            const [lo, hi] = blockStart(a) <= blockStart(b) ? [a, b] : [b, a];
            const loEnd = blockStart(lo) + RULE_BLOCK - 1;
            if (blockStart(hi) > loEnd) continue;
            problems.push(
                `${keyOf(hi, "match.priority")} ${blockStart(hi)} overlaps ${keyOf(lo, "match.priority")} ${blockStart(lo)}: ` +
                    `each service's rules take ${RULE_BLOCK} priorities from its match.priority (${lo.service.name}: ${blockStart(lo)}..${loEnd}), ` +
                    `so both would use priorities ${blockStart(hi)}..${Math.min(loEnd, blockStart(hi) + RULE_BLOCK - 1)} on a listener; ` +
                    `give ${hi.service.name} a match.priority of at least ${loEnd + 1}, or move one of them`,
            );
        }
    });
    return problems;
}

/**
 * The default service's route rules carry no paths or hosts (it gets every request no rule
 * takes), so placed before another service's block they would take that service's requests that
 * carry the route's header, cookie or query. They must come after every other block.
 */
function defaultLastProblems(spec: StackSpec): string[] {
    const fallback = spec.services.find((s) => isDefaultService(spec, s));
    const others = spec.services.filter((s) => s !== fallback && s.match !== undefined);
    if (!fallback || fallback.traffic.routes.length === 0 || others.length === 0) return [];
    const after = Math.max(...others.map((s) => blockStart(s) + RULE_BLOCK));
    if (fallback.match !== undefined && blockStart(fallback) >= after) return [];
    const before = others.filter((s) => blockStart(s) + RULE_BLOCK > blockStart(fallback)).map((s) => s.service.name);
    return [
        `${keyOf(fallback, "traffic.routes")}: the routes of the default service (${fallback.service.name}) match any path and host, ` +
            `so at priorities from ${blockStart(fallback)} they would come before the rules of ${before.join(", ")} and take their requests ` +
            `that match a route; give ${fallback.service.name} a match: { priority: ${Math.min(after, MAX_MATCH_PRIORITY)} } ` +
            `(or higher) so its routes come after every other service's rules`,
    ];
}

/**
 * A narrower match placed after a broader one that covers it gets no requests: the ALB takes
 * the first rule that matches, and the broader service's forward (the end of its block) matches
 * everything the narrower one would.
 */
function coverProblems(spec: StackSpec): string[] {
    const routed = spec.services.filter((s) => s.match !== undefined && !isDefaultService(spec, s));
    const problems: string[] = [];
    for (const later of routed) {
        for (const earlier of routed) {
            if (earlier === later || blockStart(earlier) >= blockStart(later)) continue;
            const a = earlier.match!;
            const b = later.match!;
            // Paths compare case-sensitively, hosts case-insensitively (API_PathPatternConditionConfig, API_HostHeaderConditionConfig).
            if (!valuesCover(a.paths, b.paths, false) || !valuesCover(a.hosts, b.hosts, true)) continue;
            const below = blockStart(earlier) - RULE_BLOCK;
            const fix =
                below >= 1
                    ? `give ${later.service.name} a match.priority of at most ${below}, so its block ends before ${earlier.service.name}'s`
                    : `give ${earlier.service.name} a match.priority above ${later.service.name}'s block, so ${later.service.name}'s rules come first`;
            problems.push(
                `${keyOf(later, "match")} (${describeMatch(b)}) comes after ${keyOf(earlier, "match")} (${describeMatch(a)}), which ` +
                    `covers it: the load balancer takes the first rule that matches, so ${later.service.name} would get no requests; ${fix}`,
            );
        }
    }
    return problems;
}

function quotaProblems(spec: StackSpec, rules: readonly PlannedRule[]): string[] {
    const problems: string[] = [];
    if (rules.length > spec.edge.maxRules) {
        const count = spec.services.map((s) => `${s.service.name} ${rules.filter((r) => r.service === s.service.name).length}`).join(", ");
        problems.push(
            spec.form === "services"
                ? `switchyard:loadBalancer.maxRules is ${spec.edge.maxRules}, but the stack needs ${rules.length} listener rules ` +
                      `on the load balancer (production and test listeners; ${count}): remove routes or services, or raise ` +
                      `the account's "Rules per Application Load Balancer" quota and then maxRules`
                : `switchyard:traffic.routes has ${rules.length} routes, more than the ${spec.edge.maxRules} listener rules ` +
                      `an ALB takes by default ("Rules per Application Load Balancer"): remove routes`,
        );
    }
    const groups = spec.services.reduce((n, s) => n + fleetColors(s).length, 0);
    if (groups > ALB_QUOTAS.targetGroupsPerLoadBalancer) {
        problems.push(
            `switchyard:services has ${spec.services.length} services with ${groups} target groups (one per colour), more than the ` +
                `${ALB_QUOTAS.targetGroupsPerLoadBalancer} an ALB takes (a quota AWS does not raise): put some services in another stack`,
        );
    }
    return problems;
}

/**
 * The per-rule limits (lib/parse/albRules.ts) over the whole rule, the service's match
 * included. A route alone was checked when it was parsed; with a match added, the counts grow
 * and the rule may hold two host-header conditions.
 */
function ruleConditionProblems(spec: StackSpec, rules: readonly PlannedRule[]): string[] {
    const problems = new Set<string>();
    for (const rule of rules) {
        const service = spec.services.find((s) => s.service.name === rule.service)!;
        const match = matchConditions(service.match);
        if (match.length === 0) continue;
        const routeKey = rule.routeIndex === undefined ? undefined : `traffic.routes[${rule.routeIndex}]`;
        const route = rule.route ? routeConditions(rule.route).map((c) => ({ ...c, key: `${routeKey}.${c.key}` })) : [];
        for (const { key, problem } of ruleLimitProblems([...match, ...route])) {
            // A match's own values are checked where it is parsed (lib/parse/services.ts).
            if (key?.startsWith("match.")) continue;
            const where = key
                ? keyOf(service, key)
                : routeKey
                  ? `${keyOf(service, routeKey)} with ${keyOf(service, "match")}`
                  : keyOf(service, "match");
            problems.add(`${where} ${problem}`);
        }
    }
    return [...problems];
}
