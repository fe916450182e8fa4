/** `switchyard:traffic`: the live colour, the canary, partial-release routes; and invariant 2. */
import {
    COLORS,
    Canary,
    Color,
    HeaderMatch,
    Route,
    Slot,
    Strategy,
    SwitchyardConfig,
    TrafficSettings,
    formatSchema,
    otherColor,
    supportsSchema,
} from "../model";
import { Problems } from "../problems";
import { HOST_VALUE, routeConditions, ruleLimitProblems } from "./albRules";
import { CIDR } from "./patterns";

// ALB rule values: visible ASCII only, at most 128 characters; query-string characters as listed
// in https://docs.aws.amazon.com/elasticloadbalancing/latest/application/add-rule.html (hosts: HOST_VALUE).
const HEADER_VALUE = { pattern: /^[\x20-\x7e]{1,128}$/, hint: "must be 1-128 visible ASCII characters" };
const QUERY_PART = {
    pattern: /^[A-Za-z0-9_\-.$/~"'@:+&()!,;=*?]{1,128}$/,
    hint: "must be 1-128 characters: letters, digits, _-.$/~\"'@:+&()!,;= and wildcards * ?",
};

/** The highest listener-rule priority a route may take ("1-50000": ALB CreateRule, Priority). */
export const MAX_ROUTE_PRIORITY = 50000;

export function parseTraffic(
    p: Problems,
    value: unknown,
    slots: Record<Color, Slot | undefined>,
    strategy: Strategy,
): TrafficSettings | undefined {
    const key = "switchyard:traffic";
    const t = p.object(key, value, ["live", "canary", "routes", "previous"]);
    if (strategy === "rolling") {
        return parseRollingTraffic(p, t, slots);
    }
    if (!t) {
        if (value === undefined || value === null) p.add(`${key}.live is required: the colour that serves production (blue or green)`);
        return undefined;
    }
    const live = p.oneOf(`${key}.live`, t.live, COLORS);
    if (t.live === undefined) p.add(`${key}.live is required: the colour that serves production (blue or green)`);
    const previous = p.oneOf(`${key}.previous`, t.previous, COLORS);
    if (previous !== undefined && previous === live) {
        p.add(`${key}.previous (${previous}) must differ from ${key}.live: it names the colour that was live before the last flip`);
    }
    const canaryRaw = p.object(`${key}.canary`, t.canary, ["percent", "stickiness"]);
    let canary: Canary | undefined;
    if (canaryRaw) {
        const percent = p.int(`${key}.canary.percent`, canaryRaw.percent, { min: 1, max: 99 });
        if (canaryRaw.percent === undefined) p.add(`${key}.canary.percent is required (1..99), or remove ${key}.canary`);
        const stickiness = p.int(`${key}.canary.stickiness`, canaryRaw.stickiness, { min: 1, max: 604800 });
        if (percent !== undefined) canary = { percent, stickiness };
    }
    const routes = parseRoutes(p, t.routes);
    if (!live) return undefined;
    return { live, canary, routes, previous };
}

/** Rolling: one fleet, no candidate; the blue/green keys are refused rather than ignored. */
function parseRollingTraffic(
    p: Problems,
    t: Record<string, unknown> | undefined,
    slots: Record<Color, Slot | undefined>,
): TrafficSettings | undefined {
    const key = "switchyard:traffic";
    const filled = COLORS.filter((c) => slots[c] !== undefined);
    if (filled.length !== 1) {
        p.add(
            `switchyard:slots must fill exactly one colour with strategy rolling (got ${filled.length ? filled.join(" and ") : "none"}); remove the other slot or use strategy blue-green`,
        );
    }
    for (const k of ["canary", "routes", "previous"] as const) {
        if (t?.[k] !== undefined) p.add(`${key}.${k} is a blue-green key and cannot be used with switchyard:strategy rolling; remove it`);
    }
    const live = t ? p.oneOf(`${key}.live`, t.live, COLORS) : undefined;
    if (live && filled.length === 1 && live !== filled[0]) {
        p.add(`${key}.live (${live}) must name the filled slot (${filled[0]}) with strategy rolling`);
    }
    const fleet = live ?? filled[0];
    return fleet ? { live: fleet, routes: [] } : undefined;
}

function parseRoutes(p: Problems, value: unknown): Route[] {
    const key = "switchyard:traffic.routes";
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
        p.add(`${key} must be a list of routes (got ${JSON.stringify(value)})`);
        return [];
    }
    const routes: Route[] = [];
    const priorities = new Map<number, number>();
    value.forEach((item, i) => {
        const rk = `${key}[${i}]`;
        const before = p.count;
        const route = parseRoute(p, rk, item, i);
        if (!route) return;
        const other = priorities.get(route.priority);
        if (other !== undefined) p.add(`${rk}.priority ${route.priority} is already used by ${key}[${other}]; priorities must be unique`);
        priorities.set(route.priority, i);
        if (p.count === before) routes.push(route);
    });
    return routes;
}

/**
 * One route of `switchyard:traffic.routes` (at list position `index`, which gives its default
 * priority), every problem reported under `rk`: the route is valid only when `p` got none.
 * Undefined when it is not a map at all. The release tool's `route add` checks a new route with
 * this too: one place per rule.
 */
export function parseRoute(p: Problems, rk: string, item: unknown, index: number): Route | undefined {
    const r = p.object(rk, item, ["color", "priority", "header", "cookie", "sourceIps", "hosts", "query"]);
    if (!r) {
        if (item === undefined || item === null) p.add(`${rk} is empty; give it a color and a condition`);
        return undefined;
    }
    const before = p.count;
    const color = p.oneOf(`${rk}.color`, r.color, COLORS);
    if (r.color === undefined) p.add(`${rk}.color is required (blue or green)`);
    const priority = p.int(`${rk}.priority`, r.priority, { min: 1, max: MAX_ROUTE_PRIORITY, default: index + 1 });
    const headerRaw = p.object(`${rk}.header`, r.header, ["name", "values"]);
    let header: HeaderMatch | undefined;
    if (headerRaw) {
        const name = p.string(`${rk}.header.name`, headerRaw.name, {
            pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/,
            hint: "must be an HTTP header name",
        });
        const values = p.stringList(`${rk}.header.values`, headerRaw.values, HEADER_VALUE);
        if (headerRaw.name === undefined) p.add(`${rk}.header.name is required`);
        if (name?.toLowerCase() === "host") p.add(`${rk}.header.name cannot be Host (the ALB refuses it): use hosts instead`);
        if (!values || values.length === 0) p.add(`${rk}.header.values must list at least one value`);
        if (name && values && values.length > 0) header = { name, values };
    }
    const cookieRaw = p.object(`${rk}.cookie`, r.cookie, ["name", "value"]);
    let cookie: Route["cookie"];
    if (cookieRaw) {
        const name = p.string(`${rk}.cookie.name`, cookieRaw.name, {
            pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/,
            hint: "must be a cookie name",
        });
        const cookieValue = p.string(`${rk}.cookie.value`, cookieRaw.value, {
            pattern: /^[^\s;,*?]{1,100}$/,
            hint: "must be 1-100 characters without spaces, ; , * or ?",
        });
        if (cookieRaw.name === undefined || cookieRaw.value === undefined) p.add(`${rk}.cookie needs both name and value`);
        if (name && cookieValue) cookie = { name, value: cookieValue };
    }
    const sourceIps = p.stringList(`${rk}.sourceIps`, r.sourceIps, CIDR);
    const hosts = p.stringList(`${rk}.hosts`, r.hosts, HOST_VALUE);
    let query: Record<string, string> | undefined;
    const queryRaw = p.object(`${rk}.query`, r.query, Object.keys((r.query as object) ?? {}));
    if (queryRaw) {
        query = {};
        for (const [k, v] of Object.entries(queryRaw)) {
            if (!QUERY_PART.pattern.test(k)) p.add(`${rk}.query key '${k}' ${QUERY_PART.hint}`);
            const qv = p.string(`${rk}.query.${k}`, typeof v === "number" ? String(v) : v, QUERY_PART);
            if (qv) query[k] = qv;
        }
    }
    const valueCount =
        (header?.values.length ?? 0) + (cookie ? 1 : 0) + (sourceIps?.length ?? 0) + (hosts?.length ?? 0) + Object.keys(query ?? {}).length;
    const conditionGiven = [r.header, r.cookie, r.sourceIps, r.hosts, r.query].some((c) => c !== undefined);
    if (!conditionGiven) p.add(`${rk} needs at least one condition: header, cookie, sourceIps, hosts or query`);
    else if (valueCount === 0 && p.count === before) p.add(`${rk} has conditions with no values; give each condition at least one value`);
    const route = strip({ color: color ?? "blue", priority, header, cookie, sourceIps, hosts, query });
    for (const { key, problem } of ruleLimitProblems(routeConditions(route))) {
        p.add(key ? `${rk}.${key} ${problem}` : `${rk} ${problem}`);
    }
    return route;
}

/** Invariant 2: every colour with traffic has a build, runs tasks, and supports the current schema. */
export function checkTrafficColors(
    p: Problems,
    cfg: Pick<SwitchyardConfig, "slots" | "traffic" | "database">,
    given: (color: Color) => boolean,
): void {
    const reasons = new Map<Color, string[]>();
    const give = (color: Color, why: string) => reasons.set(color, [...(reasons.get(color) ?? []), why]);
    give(cfg.traffic.live, "live");
    if (cfg.traffic.canary) give(otherColor(cfg.traffic.live), `canary ${cfg.traffic.canary.percent}%`);
    cfg.traffic.routes.forEach((r, i) => give(r.color, `traffic.routes[${i}]`));
    for (const [color, why] of reasons) {
        const slot = cfg.slots[color];
        const because = why.join(", ");
        if (!slot) {
            if (given(color)) continue;
            p.add(
                `switchyard:slots.${color} is empty but ${color} receives traffic (${because}); give it an image or build, or move the traffic`,
            );
            continue;
        }
        if (slot.idle) {
            p.add(
                `switchyard:slots.${color}.idle must not be set: ${color} receives traffic (${because}) and runs service.desiredCount tasks`,
            );
        }
        const schema = cfg.database?.schema;
        // A build that declares nothing may need any schema: where the database's is declared,
        // only a declared support can be checked (invariant 2), so traffic needs one.
        if (schema !== undefined && !slot.schema) {
            p.add(
                `switchyard:slots.${color}.schema is required: ${color} receives traffic (${because}) and switchyard:database.schema ` +
                    `is ${schema}, so the build must declare the schema versions it runs against, e.g. schema: [${schema}] ` +
                    `(or move the traffic)`,
            );
        }
        if (schema !== undefined && slot.schema && !supportsSchema(slot.schema, schema)) {
            p.add(
                `switchyard:slots.${color}.schema (${formatSchema(slot.schema)}) does not include switchyard:database.schema ${schema}, ` +
                    `but ${color} receives traffic (${because}); deploy a build that supports schema ${schema} or move the traffic`,
            );
        }
    }
    const previous = cfg.traffic.previous;
    if (previous && cfg.slots[previous]?.idle) {
        p.add(
            `switchyard:slots.${previous}.idle must not be set while switchyard:traffic.previous is ${previous}: ` +
                `the colour that was just live stays warm for rollback; run finish in a later update`,
        );
    }
    if (previous && !cfg.slots[previous]) {
        p.add(`switchyard:traffic.previous names ${previous} but switchyard:slots.${previous} is empty; remove traffic.previous`);
    }
}

function strip<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
