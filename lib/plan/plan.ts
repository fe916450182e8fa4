/**
 * The offline plan of a stack-file change: traffic before and after, resource changes, the kind
 * of change and the invariants it breaks, warm capacity and the undo command. Pure: from two
 * validated configs and the two evaluations of the program under the mocks.
 */
import type { Recorded } from "../program/mocks";
import { SwitchyardConfig } from "../model";
import { Capacity, warmCapacity } from "./capacity";
import { ResourceChange, diffEvaluations, readingOrder } from "./diff";
import { checkInvariants } from "./invariants";
import { Kind, Part, classify } from "./kind";
import { TrafficSummary, summarizeTraffic } from "./traffic";
import { Undo, undoCommand } from "./undo";

export interface Side {
    /** The stack file's whole `config:` map (switchyard keys and the others, such as aws:region). */
    readonly file: Readonly<Record<string, unknown>>;
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
    /** The resource changes, when made over more than these resources (a stack of several services: lib/plan/services.ts). */
    readonly changes?: readonly ResourceChange[];
}

export interface Plan {
    readonly stack: string;
    readonly base: string;
    readonly kind: Kind;
    readonly summary: string;
    /** The release steps the change is made of (several for `combined`). */
    readonly parts: readonly Part[];
    readonly traffic: { readonly before: TrafficSummary | null; readonly after: TrafficSummary };
    readonly resources: readonly ResourceChange[];
    readonly violations: readonly string[];
    readonly capacity: Capacity;
    readonly undo: Undo;
}

export function buildPlan(input: PlanInput): Plan {
    const { before, after } = input;
    const resources = input.changes ?? readingOrder(diffEvaluations(before?.resources ?? [], after.resources));
    const verdict = classify(before?.config, after.config, input.liveElsewhere);
    const violations = before
        ? checkInvariants({
              kind: verdict.kind,
              parts: verdict.parts,
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
        parts: verdict.parts,
        traffic: { before: before ? summarizeTraffic(before.config) : null, after: summarizeTraffic(after.config) },
        resources,
        violations,
        capacity: warmCapacity(after.config),
        undo: undoCommand(before, after, input.dirArg),
    };
}
