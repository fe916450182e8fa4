/**
 * `switchyard:services`: the parts of a service entry that the single-service form does not have
 * (its key as its name, its `match`), and the single-service view each entry is parsed as
 * (lib/config.ts parseStack runs the single-service parser on it, under the entry's key).
 */
import { RawConfig } from "../model";
import { Problems } from "../problems";
import { MAX_MATCH_PRIORITY, MAX_SERVICE_ROUTE_PRIORITY, RULE_BLOCK } from "../ruleLayout";
import { ServiceMatch } from "../stackSpec";
import { ALB_RULE_LIMITS, HOST_VALUE, PATH_VALUE } from "./albRules";
import { reservedPrefixesOf } from "./names";
import { SERVICE_NAME } from "./service";

/** A service's own sections: at the top in the single form, under `switchyard:services.<name>` in the services form. */
export const SERVICE_SECTIONS = ["service", "slots", "traffic", "rollout", "alarms", "registry", "database", "strategy"] as const;

/** Settings every service of a stack shares, at the top in both forms. */
export const STACK_WIDE_SECTIONS = ["network", "https", "testAccess", "environment"] as const;

export const SERVICES_KEY = "switchyard:services";

/** The key of a service is its name: the same rules as `service.name`. Whether it is valid. */
export function checkServiceKey(p: Problems, name: string): boolean {
    const before = p.count;
    if (!SERVICE_NAME.pattern.test(name)) {
        p.add(`${SERVICES_KEY}.${name}: the key is the service's name, and it ${SERVICE_NAME.hint}; rename the key`);
    }
    for (const reserved of reservedPrefixesOf(name)) {
        p.add(
            `${SERVICES_KEY}.${name}: the key is the service's name, and '${name}' would give the ${reserved.what} a name ` +
                `starting with '${reserved.prefix}', which AWS refuses; rename the key`,
        );
    }
    if (name === EDGE_NAME) {
        // program.ts names the shared edge `edge` (edge-alb, edge-cluster, edge-*-listener), and the
        // listeners move between the edge and a default service by those names: a service of that
        // name would share them.
        p.add(`${SERVICES_KEY}.${name}: '${EDGE_NAME}' is the shared load balancer's name (edge-alb, edge-cluster); rename the key`);
    }
    return p.count === before;
}

/** The logical name of the shared edge's resources (program.ts): no service may have it. */
export const EDGE_NAME = "edge";

/**
 * What the entry holds besides the single-service sections, checked: no `service.name` (the
 * key is the name), no rolling strategy, route priorities within the block. Returns the entry.
 */
export function checkServiceEntry(p: Problems, name: string, value: unknown): Record<string, unknown> | undefined {
    const key = `${SERVICES_KEY}.${name}`;
    const entry = p.object(key, value, ["match", ...SERVICE_SECTIONS]);
    if (!entry) return undefined;
    const service = entry.service;
    if (typeof service === "object" && service !== null && "name" in service) {
        p.add(`${key}.service.name cannot be set: the key '${name}' is the service's name; remove service.name (or rename the key)`);
    }
    if (entry.strategy === "rolling") {
        p.add(
            `${key}.strategy rolling is not supported in switchyard:services yet: the shared load balancer's rules forward ` +
                `to a service's blue/green pair; use blue-green, or keep this service in a single-service stack of its own`,
        );
    }
    const traffic = entry.traffic;
    const routes = typeof traffic === "object" && traffic !== null ? (traffic as Record<string, unknown>).routes : undefined;
    if (Array.isArray(routes)) {
        routes.forEach((route, i) => {
            // A route without a priority takes its position + 1 (lib/parse/traffic.ts parseRoute).
            const given = typeof route === "object" && route !== null ? (route as Record<string, unknown>).priority : undefined;
            const priority = given === undefined ? i + 1 : given;
            if (typeof priority === "number" && Number.isInteger(priority) && priority > MAX_SERVICE_ROUTE_PRIORITY) {
                p.add(
                    `${key}.traffic.routes[${i}].priority must be 1..${MAX_SERVICE_ROUTE_PRIORITY} in switchyard:services (got ${priority}): ` +
                        `a service's rules take ${RULE_BLOCK} priorities from its match.priority, its routes first and its forward last`,
                );
            }
        });
    }
    return entry;
}

/**
 * `switchyard:services.<name>.match`. `isDefault`: the service is `switchyard:loadBalancer.default`,
 * which gets every request no rule takes: no paths or hosts, and its match (only a priority) is
 * optional; any other service needs paths or hosts.
 */
export function parseMatch(p: Problems, name: string, value: unknown, isDefault: boolean): ServiceMatch | undefined {
    const key = `${SERVICES_KEY}.${name}.match`;
    if (value === undefined || value === null) {
        if (!isDefault) {
            p.add(
                `${key} is required: a service that is not switchyard:loadBalancer.default gets the requests its paths or hosts ` +
                    `match, e.g. match: { paths: [/${name}/*], priority: 100 }`,
            );
        }
        return undefined;
    }
    const before = p.count;
    const m = p.object(key, value, ["paths", "hosts", "priority"]);
    if (!m) return undefined;
    const paths = p.stringList(`${key}.paths`, m.paths, PATH_VALUE) ?? [];
    const hosts = p.stringList(`${key}.hosts`, m.hosts, HOST_VALUE) ?? [];
    for (const [k, list, what] of [
        ["paths", m.paths, "path patterns"],
        ["hosts", m.hosts, "host names"],
    ] as const) {
        if (Array.isArray(list) && list.length === 0) p.add(`${key}.${k} must list at least one of the ${what}, or be removed`);
        // One condition of the rule: "up to three match evaluations per condition" (lib/parse/albRules.ts).
        if (Array.isArray(list) && list.length > ALB_RULE_LIMITS.valuesPerCondition) {
            p.add(
                `${key}.${k} lists ${list.length} ${what}; an ALB condition takes at most ${ALB_RULE_LIMITS.valuesPerCondition}: ` +
                    `use wildcards, or split the service`,
            );
        }
    }
    const priority = p.int(`${key}.priority`, m.priority, { min: 1, max: MAX_MATCH_PRIORITY });
    if (m.priority === undefined) {
        p.add(
            `${key}.priority is required: the first of the ${RULE_BLOCK} listener-rule priorities this service's rules take ` +
                `(1..${MAX_MATCH_PRIORITY}), e.g. priority: 100`,
        );
    }
    if (isDefault && (m.paths !== undefined || m.hosts !== undefined)) {
        p.add(
            `${key} of the default service (switchyard:loadBalancer.default) cannot have paths or hosts: it gets every request ` +
                `no rule takes; remove them, or make another service the default`,
        );
    }
    if (!isDefault && m.paths === undefined && m.hosts === undefined) {
        p.add(
            `${key} needs paths or hosts: a service that is not switchyard:loadBalancer.default gets only the requests they match; ` +
                `e.g. paths: [/${name}/*]`,
        );
    }
    if (p.count > before || priority === undefined) return undefined;
    return { paths, hosts, priority };
}

/**
 * The single-service stack a service entry stands for: its sections, its key as
 * `service.name`, and the stack-wide settings.
 */
export function serviceView(name: string, entry: Record<string, unknown>, raw: RawConfig): RawConfig {
    const view: Record<string, unknown> = {};
    for (const section of STACK_WIDE_SECTIONS) if (raw[section] !== undefined) view[section] = raw[section];
    for (const section of SERVICE_SECTIONS) if (entry[section] !== undefined) view[section] = entry[section];
    const service = entry.service ?? {};
    // Not a map: left as it is, so the service parser names the problem.
    view.service = typeof service === "object" && !Array.isArray(service) ? { ...service, name } : service;
    // Refused above (checkServiceEntry); parsed as blue-green so its other problems are still named.
    if (entry.strategy === "rolling") delete view.strategy;
    return view;
}
