/**
 * The offline plan of a stack-file change: traffic before and after, resource changes, the kind
 * of change and the invariants it breaks, warm capacity and the undo command. Pure: from two
 * validated configs and the two evaluations of the program under the mocks.
 */
import type { Recorded } from "../program/mocks";
import { SwitchyardConfig } from "../model";
import { Capacity, warmCapacity } from "./capacity";
import { ResourceChange, diffEvaluations } from "./diff";
import { checkInvariants } from "./invariants";
import { Kind, classify } from "./kind";
import { TrafficSummary, summarizeTraffic } from "./traffic";
import { Undo, undoCommand } from "./undo";

export interface Side {
    readonly config: SwitchyardConfig;
    readonly resources: readonly Recorded[];
}

export interface PlanInput {
    /** What the base is, in words: `HEAD:Pulumi.dev.yaml`, a file path, or `none`. */
    readonly baseLabel: string;
    /** Undefined: nothing deployed yet (`--base none`). */
    readonly before?: Side;
    readonly after: Side;
    /** Digests live in other stacks (digest → stack), to recognise a promotion. */
    readonly liveElsewhere?: ReadonlyMap<string, string>;
    /** ` --dir <d>` when the files are not in the working directory, so the undo command works as printed. */
    readonly dirArg?: string;
}

export interface Plan {
    readonly stack: string;
    readonly base: string;
    readonly kind: Kind;
    readonly summary: string;
    readonly traffic: { readonly before: TrafficSummary | null; readonly after: TrafficSummary };
    readonly resources: readonly ResourceChange[];
    readonly violations: readonly string[];
    readonly capacity: Capacity;
    readonly undo: Undo;
}

export function buildPlan(input: PlanInput): Plan {
    const { before, after } = input;
    const resources = diffEvaluations(before?.resources ?? [], after.resources);
    const verdict = classify(before?.config, after.config, input.liveElsewhere);
    const violations = before
        ? checkInvariants({
              kind: verdict.kind,
              before: before.config,
              after: after.config,
              changes: resources,
              beforeResources: before.resources,
              afterResources: after.resources,
          })
        : [];
    return {
        stack: after.config.stack,
        base: input.baseLabel,
        kind: verdict.kind,
        summary: verdict.summary,
        traffic: { before: before ? summarizeTraffic(before.config) : null, after: summarizeTraffic(after.config) },
        resources,
        violations,
        capacity: warmCapacity(after.config),
        undo: undoOf(verdict.kind, before, after, resources, violations, input.dirArg),
    };
}

/** The release-tool undo of a release step; a change that breaks an invariant or changes nothing has none. */
function undoOf(
    kind: Kind,
    before: Side | undefined,
    after: Side,
    resources: readonly ResourceChange[],
    violations: readonly string[],
    dirArg: string | undefined,
): Undo {
    if (violations.length > 0) {
        // Such a change does more than its step (e.g. a flip and a port change): the step's own undo would not restore it all.
        return { command: null, note: "the change does more than a release step: revert the commit (git revert) to undo all of it" };
    }
    if (before && resources.length === 0 && JSON.stringify(before.config) === JSON.stringify(after.config)) {
        return { command: null, note: "nothing changes; nothing to undo" };
    }
    return undoCommand(kind, before?.config, after.config, dirArg);
}
