/**
 * `route add` and `route remove`: partial-release routes by command. The flags become a raw
 * route, which the config model's own route parser checks (lib/parse/traffic.ts parseRoute, with
 * the ALB rule limits of lib/parse/albRules.ts): one place per rule, the same messages as a
 * hand-written route in the stack file. Pure, like lib/release.ts.
 */
import { Route, SwitchyardConfig } from "./model";
import { MAX_ROUTE_PRIORITY, parseRoute } from "./parse/traffic";
import { ConfigError, Problems } from "./problems";
import { MAX_SERVICE_ROUTE_PRIORITY, RULE_BLOCK } from "./ruleLayout";
import { ServiceSpec } from "./stackSpec";
import { Edit, StepResult, alreadySo, badInput, done, refuse, serviceKey, stackFlags } from "./release";

/** The flags of `route add`, as given (repeatable ones as lists). */
export interface RouteFlags {
    readonly color: string;
    /** `NAME=V[,V…]`: the header has any of the values. */
    readonly header?: string;
    /** `NAME=V`: the request carries this cookie. */
    readonly cookie?: string;
    readonly sourceIps?: readonly string[];
    readonly hosts?: readonly string[];
    /** `K=V` each: every pair in the query string. */
    readonly queries?: readonly string[];
    readonly priority?: number;
}

/** The raw route (stack-file shape) the flags describe, or what is wrong with them. */
export function rawRouteFromFlags(flags: RouteFlags): { readonly raw: Record<string, unknown> } | { readonly problems: string[] } {
    const problems: string[] = [];
    const pair = (flag: string, text: string, form: string): [string, string] | undefined => {
        const at = text.indexOf("=");
        if (at <= 0) {
            problems.push(`${flag} ${text} must be ${form}`);
            return undefined;
        }
        return [text.slice(0, at), text.slice(at + 1)];
    };
    const raw: Record<string, unknown> = { color: flags.color };
    if (flags.priority !== undefined) raw.priority = flags.priority;
    if (flags.header !== undefined) {
        const h = pair("--header", flags.header, "NAME=VALUE[,VALUE…], e.g. x-beta-user=alice,bob");
        if (h) raw.header = { name: h[0], values: h[1].split(",") };
    }
    if (flags.cookie !== undefined) {
        const c = pair("--cookie", flags.cookie, "NAME=VALUE, e.g. beta=1");
        if (c) raw.cookie = { name: c[0], value: c[1] };
    }
    if (flags.sourceIps?.length) raw.sourceIps = [...flags.sourceIps];
    if (flags.hosts?.length) raw.hosts = [...flags.hosts];
    if (flags.queries?.length) {
        const query: Record<string, string> = {};
        for (const q of flags.queries) {
            const kv = pair("--query", q, "KEY=VALUE, e.g. beta=1");
            if (!kv) continue;
            if (kv[0] in query) problems.push(`--query ${kv[0]} is given twice; a route matches one value per query key`);
            query[kv[0]] = kv[1];
        }
        raw.query = query;
    }
    if (![flags.header, flags.cookie, flags.sourceIps?.length, flags.hosts?.length, flags.queries?.length].some(Boolean)) {
        problems.push("route add needs at least one condition: --header, --cookie, --source-ip, --host or --query");
    }
    return problems.length > 0 ? { problems } : { raw };
}

/**
 * `route add`: appends the route to `traffic.routes` with an explicit priority (the one given,
 * else one above every route's), so no other route's rule moves. The same route again: already so.
 */
export function routeAdd(cfg: SwitchyardConfig, flags: RouteFlags): StepResult {
    if (cfg.strategy === "rolling") {
        return refuse(
            `route add does not apply to stack ${cfg.stack}: ${serviceKey(cfg, "strategy")} is rolling, so there is one fleet and no colour to route to`,
        );
    }
    const parsed = rawRouteFromFlags(flags);
    if ("problems" in parsed) return badInput(parsed.problems.join("; "));
    const maxPriority = maxRoutePriority(cfg);
    if (flags.priority !== undefined && flags.priority > maxPriority) {
        return badInput(
            `--priority ${flags.priority} is too high for a service of switchyard:services: its routes take priorities ` +
                `1..${maxPriority} (its rules take ${RULE_BLOCK} priorities from its match.priority, routes first); give --priority 1..${maxPriority}`,
        );
    }
    const routes = cfg.traffic.routes;
    const key = serviceKey(cfg, `traffic.routes[${routes.length}]`);
    const p = new Problems();
    const route = parseRoute(p, key, parsed.raw, routes.length);
    const problems = problemsOf(p);
    if (!route || problems.length > 0)
        return badInput(`the route given by the flags is not valid (it would be ${key}): ${problems.join("; ")}`);

    const same = routes.find((r) => sameMatch(r, route));
    if (same && same.color === route.color && (flags.priority === undefined || flags.priority === same.priority)) {
        return alreadySo(`a route with priority ${same.priority} already sends ${describeMatch(same)} to ${same.color}`);
    }
    if (same) {
        return refuse(
            `a route with priority ${same.priority} already matches ${describeMatch(same)} (to ${same.color}); remove it first: ` +
                removeCommand(cfg, same.priority),
        );
    }
    const priority = flags.priority ?? Math.max(0, ...routes.map((r) => r.priority)) + 1;
    if (priority > maxPriority) {
        return refuse(`no priority above ${maxPriority - 1} is free after the last route; give --priority with a free value`);
    }
    const holder = routes.find((r) => r.priority === priority);
    if (holder) {
        return refuse(
            `priority ${priority} is held by the route that sends ${describeMatch(holder)} to ${holder.color}; give another --priority, ` +
                `or remove that route first: ${removeCommand(cfg, priority)}`,
        );
    }
    const value = { ...parsed.raw, priority };
    // The whole list is written when it exists: the stack-file editor sets keys of maps only.
    const edit: Edit = { op: "set", path: ["traffic", "routes"], value: [...rawRoutes(routes), value] };
    return done(
        [edit],
        `requests with ${describeMatch(route)} now go to ${route.color} (route priority ${priority}). ` +
            `Next: pulumi up --stack ${cfg.stack}; to undo: ${removeCommand(cfg, priority)}`,
    );
}

/** `route remove`: removes the route with this priority; none has it (a remove run again): already so. */
export function routeRemove(cfg: SwitchyardConfig, priority: number): StepResult {
    const routes = cfg.traffic.routes;
    const index = routes.findIndex((r) => r.priority === priority);
    if (index < 0) {
        const held = routes.map((r) => r.priority).join(", ");
        return alreadySo(
            `no route has priority ${priority}${held ? ` (the routes have ${held})` : " (there are no routes)"}; nothing to remove`,
        );
    }
    const route = routes[index];
    const remaining = routes.filter((_, i) => i !== index);
    // The remaining routes keep their priorities: a route whose priority was its list position
    // gets it written out, so its listener rule does not move.
    const edit: Edit =
        remaining.length === 0
            ? { op: "delete", path: ["traffic", "routes"] }
            : { op: "set", path: ["traffic", "routes"], value: rawRoutes(remaining) };
    return done(
        [edit],
        `removed the route that sent ${describeMatch(route)} to ${route.color} (priority ${priority}); ` +
            `those requests follow the default weights again. Next: pulumi up --stack ${cfg.stack}`,
    );
}

/**
 * The highest priority a route of this service may have: 50000 (the ALB's) in the single form;
 * in switchyard:services the last of its block but one (lib/ruleLayout.ts, which the config checks too).
 */
function maxRoutePriority(cfg: SwitchyardConfig): number {
    const keyPath = (cfg as Partial<ServiceSpec>).keyPath;
    return keyPath && keyPath.length > 0 ? MAX_SERVICE_ROUTE_PRIORITY : MAX_ROUTE_PRIORITY;
}

/** Routes back in stack-file shape, each with its priority written out. */
function rawRoutes(routes: readonly Route[]): Record<string, unknown>[] {
    return routes.map((r) => ({ ...r }));
}

/** What `p` collected, as a list (empty when nothing). */
function problemsOf(p: Problems): readonly string[] {
    try {
        p.throwIfAny();
        return [];
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
}

function sameMatch(a: Route, b: Route): boolean {
    const { color: _c1, priority: _p1, ...ma } = a;
    const { color: _c2, priority: _p2, ...mb } = b;
    void [_c1, _p1, _c2, _p2];
    return JSON.stringify(sorted(ma)) === JSON.stringify(sorted(mb));
}

function sorted(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sorted);
    if (v && typeof v === "object") {
        return Object.fromEntries(
            Object.keys(v)
                .sort()
                .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
        );
    }
    return v;
}

/** `header x-beta=alice|bob and source IP 10.0.0.0/8`, for summaries. */
export function describeMatch(route: Route): string {
    const parts: string[] = [];
    if (route.header) parts.push(`header ${route.header.name}=${route.header.values.join("|")}`);
    if (route.cookie) parts.push(`cookie ${route.cookie.name}=${route.cookie.value}`);
    if (route.sourceIps) parts.push(`source IP ${route.sourceIps.join("|")}`);
    if (route.hosts) parts.push(`host ${route.hosts.join("|")}`);
    for (const [k, v] of Object.entries(route.query ?? {})) parts.push(`query ${k}=${v}`);
    return parts.join(" and ");
}

function removeCommand(cfg: SwitchyardConfig, priority: number): string {
    return `npm run switchyard -- route remove ${stackFlags(cfg)} --priority ${priority}`;
}
