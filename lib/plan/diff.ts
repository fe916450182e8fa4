/**
 * What `pulumi up` would do to go from one evaluation of the program to another: each resource
 * created, updated (with the input paths that change), replaced or deleted, grouped by the
 * component it belongs to. Pure: works on the recorded resources of two evaluations.
 */
import type { Recorded } from "../program/mocks";
import { engineUrn, identifiersOf, outputIdentifiersOf } from "../program/mocks";
import { replacementFor } from "./replacements";

export type Change = "create" | "update" | "replace" | "delete";

export interface ResourceChange {
    readonly type: string;
    readonly name: string;
    /** The component it belongs to, e.g. `web-green (ColorFleet)`. */
    readonly component: string;
    readonly change: Change;
    /** Input paths that change (update, replace), e.g. `defaultActions[0].forward.targetGroups[1].weight`. */
    readonly properties: readonly string[];
    /** Replace: the paths that force it, and the documentation that says so. */
    readonly replacedBecause?: readonly string[];
    readonly source?: string;
    /** Update of a type the replacement table does not know: it may be a replacement. */
    readonly replacementUnknown?: boolean;
    /** Resources whose replacement changes an input of this one (their new id or ARN). */
    readonly follows?: readonly string[];
}

/**
 * Every difference of two evaluations, in registration order of `after` (deletions last). Old and
 * new resources are matched as the engine matches them (matchState): a resource found by an alias
 * is the same resource under a new name or parent, neither created nor deleted.
 */
export function diffEvaluations(before: readonly Recorded[], after: readonly Recorded[]): ResourceChange[] {
    const old = matchState(before, after);
    const now = new Map(after.filter((r) => r.custom).map((r) => [engineUrn(r, after), r]));
    const components = [...before, ...after].filter((r) => !r.custom);
    const changes = new Map<string, ResourceChange>();

    for (const [key, r] of now) {
        const was = old.get(key);
        if (!was) {
            changes.set(key, { type: r.type, name: r.name, component: componentOf(r, components), change: "create", properties: [] });
            continue;
        }
        const paths = diffPaths(was.inputs, r.inputs);
        if (paths.length > 0) changes.set(key, classify(r, componentOf(r, components), paths));
    }
    followReplacements(old, now, components, changes);
    for (const [key, r] of old) {
        if (!now.has(key)) {
            changes.set(key, { type: r.type, name: r.name, component: componentOf(r, components), change: "delete", properties: [] });
        }
    }
    return [...changes.values()];
}

/**
 * The old state keyed by the URN each resource has after this update, as the engine finds it
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go, generateSteps): a registered resource is
 * looked up by its own URN first, then by each of its aliases (URN aliases, and name aliases: the
 * same parent and type under the old name). Found by an alias, it keeps its physical resource, so
 * its ids and ARNs stay: the old inputs that held them (under the mocks, ids follow names) are
 * read as holding the new resource's.
 */
function matchState(before: readonly Recorded[], after: readonly Recorded[]): Map<string, Recorded> {
    const byUrn = new Map(before.filter((r) => r.custom).map((r) => [engineUrn(r, before), r]));
    const renamed = new Map<string, Recorded>();
    const substitutions: [string, string][] = [];
    for (const r of after.filter((x) => x.custom)) {
        const urn = engineUrn(r, after);
        if (byUrn.has(urn)) continue;
        const aliases = [...r.aliasUrns, ...r.aliasNames.map((name) => engineUrn({ ...r, name }, after))];
        const alias = aliases.find((u) => byUrn.has(u) && !renamed.has(u));
        if (alias === undefined) continue;
        const was = byUrn.get(alias)!;
        renamed.set(alias, r);
        const from = outputIdentifiersOf(was);
        const to = outputIdentifiersOf(r);
        from.forEach((id, i) => id !== to[i] && substitutions.push([id, to[i]]));
    }
    const state = new Map<string, Recorded>();
    for (const [urn, r] of byUrn) {
        const by = renamed.get(urn);
        const inputs = substituted(r.inputs, substitutions) as Record<string, any>;
        state.set(by ? engineUrn(by, after) : urn, { ...r, inputs });
    }
    return state;
}

/** `value` with every whole-word occurrence of each `from` in its strings (JSON in strings too) replaced by its `to`. */
function substituted(value: unknown, substitutions: readonly [string, string][]): unknown {
    if (substitutions.length === 0) return value;
    if (typeof value === "string") {
        return substitutions.reduce((s, [from, to]) => s.replace(new RegExp(`${escape(from)}(?![A-Za-z0-9-])`, "g"), to), value);
    }
    if (Array.isArray(value)) return value.map((v) => substituted(v, substitutions));
    if (isTree(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituted(v, substitutions)]));
    return value;
}

const COLOR_ORDER = ["blue", "green"];

/**
 * The changes in the order a reader looks for them: by component (which names the service and,
 * for a fleet, the colour), then colour, type and name; not the order the program registered
 * them in, which follows code paths and can change without any change to the stack.
 */
export function readingOrder(changes: readonly ResourceChange[]): ResourceChange[] {
    const colour = (name: string) => COLOR_ORDER.findIndex((c) => new RegExp(`-${c}(-|$)`).test(name));
    const key = (c: ResourceChange): [string, number, string, string] => [c.component, colour(c.name), c.type.split(":").pop()!, c.name];
    const compare = (a: ResourceChange, b: ResourceChange) => {
        const [x, y] = [key(a), key(b)];
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
        return 0;
    };
    return [...changes].sort(compare);
}

function classify(r: Recorded, component: string, paths: string[], follows?: string[]): ResourceChange {
    const verdict = replacementFor(r.type, paths);
    const base = { type: r.type, name: r.name, component, properties: paths, ...(follows ? { follows } : {}) };
    if (verdict.kind === "replace") return { ...base, change: "replace", replacedBecause: verdict.because, source: verdict.source };
    return { ...base, change: "update", ...(verdict.kind === "unknown" ? { replacementUnknown: true } : {}) };
}

/**
 * A replaced resource gets a new id and ARN in AWS, which the mocks cannot show (they keep both
 * stable): every resource whose inputs hold them changes too, and may be replaced in turn.
 */
function followReplacements(
    old: Map<string, Recorded>,
    now: Map<string, Recorded>,
    components: Recorded[],
    changes: Map<string, ResourceChange>,
): void {
    const done = new Set<string>();
    for (;;) {
        const replaced = [...changes.entries()].filter(([key, c]) => c.change === "replace" && !done.has(key));
        if (replaced.length === 0) return;
        for (const [sourceKey, source] of replaced) {
            done.add(sourceKey);
            const ids = identifiersOf(now.get(sourceKey)!);
            for (const [key, r] of now) {
                const previous = changes.get(key);
                if (!old.has(key) || key === sourceKey || previous?.change === "replace") continue;
                const paths = pathsHolding(r.inputs, ids);
                if (paths.length === 0) continue;
                const merged = [...new Set([...(previous?.properties ?? []), ...paths])];
                const follows = [...(previous?.follows ?? []), source.name];
                changes.set(key, classify(r, componentOf(r, components), merged, follows));
            }
        }
    }
}

/** The component a resource belongs to: its parent's type from the URN, named by the longest matching prefix. */
function componentOf(r: Recorded, components: readonly Recorded[]): string {
    const chain = r.urn.split("::")[2]?.split("$") ?? [];
    const parentType = chain[chain.length - 2];
    if (!parentType) return "(stack)";
    const parent = components
        .filter((c) => c.type === parentType && r.name.startsWith(c.name))
        .sort((a, b) => b.name.length - a.name.length)[0];
    const shortType = parentType.split(":").pop();
    return parent ? `${parent.name} (${shortType})` : `${shortType}`;
}

/** Paths where two input trees differ; JSON held in strings (container definitions, policies) is compared inside. */
export function diffPaths(a: unknown, b: unknown, prefix = ""): string[] {
    const x = parsedJson(a);
    const y = parsedJson(b);
    if (isTree(x) && isTree(y) && Array.isArray(x) === Array.isArray(y)) {
        const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => !k.startsWith("__"));
        return keys.flatMap((k) => diffPaths((x as any)[k], (y as any)[k], join(prefix, k, Array.isArray(x))));
    }
    return JSON.stringify(x) === JSON.stringify(y) ? [] : [prefix];
}

/** Paths of the string leaves that hold one of `ids` (as a whole word). */
function pathsHolding(value: unknown, ids: readonly string[], prefix = ""): string[] {
    const v = parsedJson(value);
    if (isTree(v)) {
        return Object.entries(v)
            .filter(([k]) => !k.startsWith("__"))
            .flatMap(([k, child]) => pathsHolding(child, ids, join(prefix, k, Array.isArray(v))));
    }
    return typeof v === "string" && ids.some((id) => new RegExp(`${escape(id)}(?![A-Za-z0-9-])`).test(v)) ? [prefix] : [];
}

function parsedJson(v: unknown): unknown {
    if (typeof v !== "string" || !/^\s*[[{]/.test(v)) return v;
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
}

const isTree = (v: unknown): v is Record<string, unknown> | unknown[] => v !== null && typeof v === "object";
const join = (prefix: string, key: string, index: boolean) => (index ? `${prefix}[${key}]` : prefix ? `${prefix}.${key}` : key);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
