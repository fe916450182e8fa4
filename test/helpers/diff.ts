/**
 * Two evaluations of the program compared the way `pulumi preview` would summarise them, and the
 * invariants a change breaks: both from lib/plan (the code `plan` runs), so the invariant tests
 * and the command can never disagree.
 */
import { parseConfig } from "../../lib/config";
import { diffEvaluations } from "../../lib/plan/diff";
import { checkInvariants } from "../../lib/plan/invariants";
import { classify } from "../../lib/plan/kind";
import type { Recorded } from "../../lib/program/mocks";
import type { Evaluation } from "../../lib/program/evaluate";

export { ROUTING_TYPES } from "../../lib/plan/invariants";

export interface ResourceDiff {
    readonly created: string[];
    readonly deleted: string[];
    /** Resources that are updated or replaced (including those following a replaced one's new ARN). */
    readonly changed: string[];
}

export function diffResources(before: Recorded[], after: Recorded[]): ResourceDiff {
    const changes = diffEvaluations(before, after);
    const keys = (test: (change: string) => boolean) =>
        changes
            .filter((c) => test(c.change))
            .map((c) => `${c.type}::${c.name}`)
            .sort();
    return {
        created: keys((c) => c === "create"),
        deleted: keys((c) => c === "delete"),
        changed: keys((c) => c === "update" || c === "replace"),
    };
}

/** The kind of change from raw `switchyard:*` values `before` → `after`, and the invariants 3–7 it breaks. */
export function brokenInvariants(
    before: { raw: Record<string, unknown>; evaluation: Evaluation },
    after: { raw: Record<string, unknown>; evaluation: Evaluation },
    stack = "dev",
): { kind: string; violations: string[] } {
    const [b, a] = [parseConfig(before.raw, stack), parseConfig(after.raw, stack)];
    const { kind } = classify(b, a);
    const violations = checkInvariants({
        kind,
        before: b,
        after: a,
        changes: diffEvaluations(before.evaluation.resources, after.evaluation.resources),
        beforeResources: before.evaluation.resources,
        afterResources: after.evaluation.resources,
    });
    return { kind, violations };
}
