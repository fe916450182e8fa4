/**
 * Which builds call which, before and after a change, and whether each pair is compatible
 * (invariant 13): the pairs lib/coexistence.ts compatibilityPairs finds (every build with traffic
 * of a caller, every build with traffic of a service it requires), shown by `plan`. Pure.
 */
import { CompatibilityPair, compatibilityPairs } from "../coexistence";
import { formatSchema } from "../model";
import { StackSpec } from "../stackSpec";

/** One caller build and one callee build, both with traffic. */
export interface Call {
    /** `web green (web@sha256:0123456789ab; canary 10%)`. */
    readonly caller: string;
    readonly callee: string;
    /** The versions of the callee the caller works with: `[2, 3]` or `2..4`. */
    readonly requires: string;
    /** The version the callee serves; absent when it declares none. */
    readonly provides?: number;
    readonly compatible: boolean;
}

export interface Calls {
    /** Null when nothing was deployed before (`--base none`). */
    readonly before: readonly Call[] | null;
    readonly after: readonly Call[];
}

export function callsOf(before: StackSpec | undefined, after: StackSpec): Calls {
    return { before: before ? compatibilityPairs(before).map(call) : null, after: compatibilityPairs(after).map(call) };
}

/** Whether there is anything to show: a stack whose builds declare no `requires` has no calls. */
export function hasCalls(calls: Calls): boolean {
    return calls.after.length > 0 || (calls.before?.length ?? 0) > 0;
}

/** The text section: one line per pair, before then after. */
export function callsText(calls: Calls): string[] {
    const lines = (list: readonly Call[]) =>
        list.length === 0 ? ["    (no build with traffic requires another service)"] : list.map((c) => `    ${callText(c)}`);
    return [
        "Calls between services (invariant 13: every build with traffic may call every build with traffic of a service it requires):",
        "  before:",
        ...(calls.before ? lines(calls.before) : ["    (nothing deployed)"]),
        "  after:",
        ...lines(calls.after),
    ];
}

/** `web green (…; canary 10%) → api blue (…; live): requires [2, 3], provides 2: compatible`. */
export function callText(c: Call): string {
    const provides = c.provides === undefined ? "provides nothing declared" : `provides ${c.provides}`;
    return `${c.caller} → ${c.callee}: requires ${c.requires}, ${provides}: ${c.compatible ? "compatible" : "INCOMPATIBLE"}`;
}

function call(pair: CompatibilityPair): Call {
    const build = (b: CompatibilityPair["caller"] | CompatibilityPair["callee"]) =>
        `${b.service} ${b.color} (${b.build}; ${b.traffic.join(", ")})`;
    return {
        caller: build(pair.caller),
        callee: build(pair.callee),
        requires: formatSchema(pair.caller.requires),
        ...(pair.callee.provides !== undefined ? { provides: pair.callee.provides } : {}),
        compatible: pair.compatible,
    };
}
