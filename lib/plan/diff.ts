/**
 * What `pulumi up` would do to go from one evaluation of the program to another: each resource
 * created, updated (with the input paths that change), replaced or deleted, grouped by the
 * component it belongs to. Pure: works on the recorded resources of two evaluations.
 */
import type { Recorded } from "../program/mocks";
import { identifiersOf } from "../program/mocks";
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

const keyOf = (r: Pick<Recorded, "type" | "name">) => `${r.type}::${r.name}`;

/** Every difference of two evaluations, in registration order of `after` (deletions last). */
export function diffEvaluations(before: readonly Recorded[], after: readonly Recorded[]): ResourceChange[] {
    const old = new Map(before.filter((r) => r.custom).map((r) => [keyOf(r), r]));
    const now = new Map(after.filter((r) => r.custom).map((r) => [keyOf(r), r]));
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
        const replaced = [...changes.values()].filter((c) => c.change === "replace" && !done.has(keyOf(c)));
        if (replaced.length === 0) return;
        for (const source of replaced) {
            done.add(keyOf(source));
            const ids = identifiersOf(now.get(keyOf(source))!);
            for (const [key, r] of now) {
                const previous = changes.get(key);
                if (!old.has(key) || key === keyOf(source) || previous?.change === "replace") continue;
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
