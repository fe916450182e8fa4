/**
 * Invariant 13: co-existence between services. Requests of any colour of a service that has
 * traffic may reach any colour with traffic of a service it calls: a forward action "distributes
 * requests among multiple target groups" by their weights, and target-group stickiness keeps
 * "requests from a client" on one target group (botocore's elbv2 model, service-2.json:
 * Action.ForwardConfig, TargetGroupTuple.Weight, TargetGroupStickinessConfig.DurationSeconds),
 * and the caller's server is a client of its own, so nothing ties the callee's colour to the
 * caller's. Every such pair must be compatible: the caller's build `requires` a range of the callee's interface versions, and the
 * callee's build `provides` one of them. `previous` counts as having traffic: it is kept warm so
 * that rollback can give it traffic back at once (invariant 14). The schema guard of invariant 2
 * (lib/parse/traffic.ts checkTrafficColors) is the same rule with the database as the callee.
 * Pure: parseStack runs it, so `pulumi up` and every release-tool edit refuse a bad state.
 */
import { COLORS, Color, SchemaSupport, Slot, formatSchema, supportsSchema } from "./model";
import { describeSlot, trafficReasons } from "./release";
import { ServiceSpec, StackSpec, serviceNamed } from "./stackSpec";
import { colorsWithTraffic } from "./traffic";

/** One build of a service that has traffic, and why. */
export interface BuildWithTraffic {
    readonly service: string;
    readonly color: Color;
    /** `web@sha256:0123456789ab` or `build ./app`. */
    readonly build: string;
    /** `live`, `canary 10%`, `traffic.routes[0]`, `previous` (kept warm for rollback). */
    readonly traffic: readonly string[];
}

/** A caller build and a callee build that both have traffic: whether the callee serves a version the caller works with. */
export interface CompatibilityPair {
    readonly caller: BuildWithTraffic & { readonly requires: SchemaSupport };
    /** `provides` absent: the callee declares no version, so nothing it serves can be shown compatible. */
    readonly callee: BuildWithTraffic & { readonly provides?: number };
    readonly compatible: boolean;
}

/** The reason `previous` has in BuildWithTraffic.traffic. */
export const KEPT_WARM = "previous";

/**
 * Every pair of builds with traffic where the caller's build requires the callee's service, in
 * stack-file order (callers, then their colours, then the services they require in the order
 * they name them, then the callee's colours). Requirements on services the stack does not have
 * are left out (unknownRequirementProblems names them).
 */
export function compatibilityPairs(spec: StackSpec): CompatibilityPair[] {
    const pairs: CompatibilityPair[] = [];
    for (const caller of spec.services) {
        for (const color of colorsServing(caller)) {
            const slot = caller.slots[color]!;
            for (const [calleeName, requires] of Object.entries(slot.requires ?? {})) {
                const callee = serviceNamed(spec, calleeName);
                if (!callee || callee === caller) continue;
                for (const calleeColor of colorsServing(callee)) {
                    const provides = callee.slots[calleeColor]!.provides;
                    pairs.push({
                        caller: { ...buildOf(caller, color), requires },
                        callee: { ...buildOf(callee, calleeColor), ...(provides !== undefined ? { provides } : {}) },
                        compatible: provides !== undefined && supportsSchema(requires, provides),
                    });
                }
            }
        }
    }
    return pairs;
}

/**
 * Every problem of invariant 13 in `spec`, each naming both builds, the versions and what to do
 * first: a requirement on a service the stack does not have (on any slot, with traffic or not),
 * a callee with traffic that declares no `provides`, and an incompatible pair.
 */
export function coexistenceProblems(spec: StackSpec): string[] {
    const problems = unknownRequirementProblems(spec);
    const pairs = compatibilityPairs(spec).filter((pair) => !pair.compatible);
    // One problem per callee build that declares nothing, naming every caller build that needs it.
    const undeclared = new Map<string, CompatibilityPair[]>();
    for (const pair of pairs) {
        if (pair.callee.provides !== undefined) continue;
        const key = `${pair.callee.service} ${pair.callee.color}`;
        undeclared.set(key, [...(undeclared.get(key) ?? []), pair]);
    }
    for (const same of undeclared.values()) problems.push(undeclaredProblem(spec, same));
    for (const pair of pairs) if (pair.callee.provides !== undefined) problems.push(incompatibleProblem(spec, pair));
    return problems;
}

/** Requirements that name no other service of the stack. */
function unknownRequirementProblems(spec: StackSpec): string[] {
    const problems: string[] = [];
    const names = spec.services.map((s) => s.service.name);
    for (const service of spec.services) {
        for (const color of COLORS) {
            for (const required of Object.keys(service.slots[color]?.requires ?? {})) {
                const key = `${slotKey(service, color)}.requires.${required}`;
                if (required === service.service.name) {
                    problems.push(`${key} names the build's own service; a build needs no declaration to work with itself: remove it`);
                } else if (!names.includes(required)) {
                    problems.push(
                        spec.form === "single"
                            ? `${key} names a service this stack does not have: a single-service stack has only ${names[0]}; ` +
                                  `to declare what ${names[0]} calls, move it and ${required} into switchyard:services, or remove ${required}`
                            : `${key} names a service this stack does not have (its services: ${names.join(", ")}); ` +
                                  `add ${required} to switchyard:services, or remove it`,
                    );
                }
            }
        }
    }
    return problems;
}

/** `pairs`: every incompatible pair with the same callee build, which declares no `provides`. */
function undeclaredProblem(spec: StackSpec, pairs: readonly CompatibilityPair[]): string {
    const callee = pairs[0].callee;
    const calleeService = serviceNamed(spec, callee.service)!;
    const callers = pairs.map(({ caller }) => `${describe(caller)} requires ${callee.service} ${formatSchema(caller.requires)}`);
    return (
        `${slotKey(calleeService, callee.color)}.provides is required: ${describe(callee)} has traffic and ` +
        `${callers.join(", and ")}; declare the version of the interface this build serves, ` +
        `e.g. provides: ${lowest(pairs[0].caller.requires)} (or move the traffic)`
    );
}

/**
 * Which service moves first follows from which build is the older one:
 * - the callee's colour is kept warm (`previous`): finish the callee before the caller's build gets traffic;
 * - the caller's colour is kept warm: finish (or roll back) the caller before the callee's other version gets traffic;
 * - the callee's colour is live: the caller's build is ahead, so the callee moves first;
 * - otherwise the callee's canary or route is ahead of a caller build: the caller moves first, or the callee rolls back.
 */
function incompatibleProblem(spec: StackSpec, { caller, callee }: CompatibilityPair): string {
    const callerService = serviceNamed(spec, caller.service)!;
    const required = `${callee.service} ${formatSchema(caller.requires)}`;
    const warm = caller.traffic.includes(KEPT_WARM) || callee.traffic.includes(KEPT_WARM);
    const head =
        `${slotKey(callerService, caller.color)}: ${describe(caller)} requires ${required}, but ${describe(callee)} ` +
        `provides ${callee.provides} and both ${warm ? "have traffic or are kept warm for it" : "have traffic"}; `;
    const v = `v${callee.provides}`;
    if (callee.traffic.includes(KEPT_WARM)) {
        return (
            head +
            `finish ${callee.service} first: its ${callee.color}, kept warm for rollback, provides ${v}; ${caller.service}'s build ` +
            `that requires ${formatSchema(caller.requires)} may have traffic once ${callee.service} is finished (or move ${caller.service}'s traffic back)`
        );
    }
    if (caller.traffic.includes(KEPT_WARM)) {
        return (
            head +
            `finish ${caller.service} first (or roll back ${caller.service}): its ${caller.color}, kept warm for rollback, requires ` +
            `${required}, so ${callee.service}'s build that provides ${v} may have traffic only once ${caller.service} is finished`
        );
    }
    if (callee.traffic.includes("live")) {
        return (
            head +
            `move ${callee.service} first: its ${versionsText(caller.requires)} must have traffic before ${caller.service}'s build that ` +
            `requires ${formatSchema(caller.requires)} gets any, and its ${v} must have none by then (or move ${caller.service}'s traffic back)`
        );
    }
    return (
        head +
        `move ${caller.service} first: a build of ${caller.service} that accepts ${v} must have all of ${caller.service}'s traffic ` +
        `before ${callee.service}'s build that provides ${v} gets any (or roll back ${callee.service})`
    );
}

/** The colours of a service that have traffic or are kept warm for rollback. */
function colorsServing(service: ServiceSpec): Color[] {
    const previous = service.traffic.previous;
    return COLORS.filter((c) => service.slots[c] !== undefined && (colorsWithTraffic(service).includes(c) || c === previous));
}

function buildOf(service: ServiceSpec, color: Color): BuildWithTraffic {
    const slot: Slot = service.slots[color]!;
    const traffic = trafficReasons(service, color);
    if (service.traffic.previous === color) traffic.push(KEPT_WARM);
    return { service: service.service.name, color, build: describeSlot(slot), traffic };
}

/** `web green (web@sha256:0123456789ab, canary 10%)`. */
function describe(build: BuildWithTraffic): string {
    return `${build.service} ${build.color} (${build.build}, ${build.traffic.join(", ")})`;
}

/** `v3`, `v2 or v3`, `v2..v4`. */
function versionsText(support: SchemaSupport): string {
    return "versions" in support ? support.versions.map((v) => `v${v}`).join(" or ") : `v${support.min}..v${support.max}`;
}

function lowest(support: SchemaSupport): number {
    return "versions" in support ? Math.min(...support.versions) : support.min;
}

/** `switchyard:services.api.slots.blue` (or `switchyard:slots.blue` in the single form). */
function slotKey(service: ServiceSpec, color: Color): string {
    return `switchyard:${[...service.keyPath, "slots", color].join(".")}`;
}
