/**
 * The order in which one `pulumi up` applies the difference between two evaluations of the
 * program (what the state holds → what the program now registers). Pure: works on the recorded
 * resources of lib/program/evaluate.ts, and takes what changes from lib/plan/diff.ts.
 *
 * What the engine does (pulumi/pulumi pkg/resource/deploy/step_generator.go, generateSteps,
 * GenerateDeletes and ScheduleDeletes; https://www.pulumi.com/docs/iac/concepts/how-pulumi-works/):
 * - A registered resource is looked up in the old state by its URN first, then by its aliases;
 *   found by an alias, it is the same resource under a new name (no create, no delete). An alias
 *   naming a URN that this program also registers is refused (GetDuplicateResourceAliasError).
 * - Creates, updates and the create half of a replacement run as the program registers them,
 *   each after the resources it depends on (the SDK registers a resource once its inputs resolve).
 *   Independent ones run in parallel, in no fixed order.
 * - Deletes are generated "after all creates/updates finish" (the comment in generateSteps on a
 *   create-before-delete replacement), in reverse dependency order (ScheduleDeletes): a resource
 *   goes before the resources it depends on. The old half of a replacement is deleted there too.
 * - "By default, to minimize downtime, Pulumi creates new instances of resources before deleting
 *   old ones" (https://www.pulumi.com/docs/iac/concepts/options/deletebeforereplace/).
 *   deleteBeforeReplace would delete first; no component of this stack sets it (grep
 *   deleteBeforeReplace components/), and the mocks do not record it, so it is not modelled.
 * - Not modelled either: an update that failed leaves its deletes pending, and the next `pulumi up`
 *   runs those first, before any create or update (https://github.com/pulumi/pulumi/issues/9979).
 */
import type { Recorded } from "../../lib/program/mocks";
import { ResourceChange, diffEvaluations } from "../../lib/plan/diff";

/** `alias`: an old resource found by an alias takes its new name in the state; no call to the provider. */
export type OperationKind = "alias" | "create" | "update" | "create-replacement" | "delete" | "delete-replaced";

export interface Operation {
    readonly kind: OperationKind;
    readonly type: string;
    /** The logical name: in the new evaluation, or in the old state for a delete. */
    readonly name: string;
    /** Inputs applied (create, update, create-replacement) or the old inputs (deletes). */
    readonly inputs: Record<string, any>;
    /** Update: the inputs the resource had (aliases followed). */
    readonly oldInputs?: Record<string, any>;
    /** Update and replacement: the input paths that change, e.g. `priority`, `conditions[0].httpHeader.values[0]`. */
    readonly properties: readonly string[];
    /** Alias: the name the resource had in the state. */
    readonly formerName?: string;
}

export interface OrderOptions {
    /**
     * Independent steps run in parallel in the engine. By default they are listed in registration
     * order; `reverse` lists the latest-registered ready step first, a second order that still
     * respects every dependency, so a collision between two independent steps shows in one of them.
     */
    readonly independent?: "registration" | "reverse";
}

export const keyOf = (r: Pick<Recorded, "type" | "name">): string => `${r.type}::${r.name}`;

/** The operations of one `pulumi up` from `before` (the state) to `after` (the program), in the engine's order. */
export function engineOrder(before: readonly Recorded[], after: readonly Recorded[], options: OrderOptions = {}): Operation[] {
    const olds = followAliases(before, after);
    const formerNames = new Map(olds.flatMap((r, i) => (r.name !== before[i].name ? [[keyOf(r), before[i].name]] : [])));
    const changes = new Map(diffEvaluations(olds, after).map((c) => [keyOf(c), c]));
    const oldByKey = new Map(olds.filter((r) => r.custom).map((r) => [keyOf(r), r]));
    const reverse = options.independent === "reverse";

    const createsAndUpdates = dependencyOrder(after, reverse).flatMap((r): Operation[] => {
        const change = changes.get(keyOf(r));
        const formerName = formerNames.get(keyOf(r));
        const alias: Operation[] = formerName
            ? [{ kind: "alias", type: r.type, name: r.name, inputs: r.inputs, properties: [], formerName }]
            : [];
        if (!change) return alias;
        const base = { type: r.type, name: r.name, inputs: r.inputs, properties: change.properties };
        if (change.change === "create") return [{ ...base, kind: "create" }];
        if (change.change === "replace") return [...alias, { ...base, kind: "create-replacement" }];
        if (change.change === "update") return [...alias, { ...base, kind: "update", oldInputs: oldByKey.get(keyOf(r))!.inputs }];
        return alias;
    });

    const deletes = dependencyOrder(olds, reverse)
        .reverse()
        .flatMap((r): Operation[] => {
            const change: ResourceChange | undefined = changes.get(keyOf(r));
            const base = { type: r.type, name: r.name, inputs: r.inputs, properties: change?.properties ?? [] };
            if (change?.change === "delete") return [{ ...base, kind: "delete" }];
            if (change?.change === "replace") return [{ ...base, kind: "delete-replaced" }];
            return [];
        });
    return [...createsAndUpdates, ...deletes];
}

/**
 * The old state as the engine matches it to the new registrations: an old resource found by one
 * of a new resource's aliases (and not by the new resource's own name) takes the new name and URN,
 * and every dependency on its old URN follows.
 */
export function followAliases(before: readonly Recorded[], after: readonly Recorded[]): Recorded[] {
    const oldKeys = new Set(before.map(keyOf));
    const newKeys = new Set(after.map(keyOf));
    const renamed = new Map<string, Recorded>();
    for (const r of after) {
        if (!r.custom || oldKeys.has(keyOf(r))) continue;
        const alias = r.aliasNames.find((name) => oldKeys.has(keyOf({ type: r.type, name })));
        if (alias === undefined) continue;
        const aliasKey = keyOf({ type: r.type, name: alias });
        if (newKeys.has(aliasKey)) {
            throw new Error(`${r.name} has alias ${alias}, a resource this program also registers (the engine refuses a duplicate alias)`);
        }
        if (renamed.has(aliasKey)) {
            throw new Error(`${r.name} and ${renamed.get(aliasKey)!.name} both claim ${alias} by alias (the engine refuses it)`);
        }
        renamed.set(aliasKey, r);
    }
    const urns = new Map<string, string>();
    for (const old of before) {
        const by = renamed.get(keyOf(old));
        if (by) urns.set(old.urn, by.urn);
    }
    return before.map((old) => {
        const by = renamed.get(keyOf(old));
        const dependencies = old.dependencies.map((u) => urns.get(u) ?? u);
        return by ? { ...old, name: by.name, urn: by.urn, dependencies } : { ...old, dependencies };
    });
}

/**
 * The resources in an order where each comes after the resources it depends on (Kahn's
 * algorithm); among the ready ones, the earliest registered first (or the latest, `reverse`).
 */
function dependencyOrder(resources: readonly Recorded[], reverse: boolean): Recorded[] {
    const index = new Map(resources.map((r, i) => [r.urn, i]));
    const waitingOn = resources.map((r) => new Set(r.dependencies.filter((u) => index.has(u) && u !== r.urn)));
    const done = new Set<string>();
    const order: Recorded[] = [];
    while (order.length < resources.length) {
        const ready = resources.map((_, i) => i).filter((i) => !done.has(resources[i].urn) && [...waitingOn[i]].every((u) => done.has(u)));
        if (ready.length === 0) throw new Error(`dependency cycle among ${resources.filter((r) => !done.has(r.urn)).map((r) => r.name)}`);
        const next = reverse ? ready[ready.length - 1] : ready[0];
        done.add(resources[next].urn);
        order.push(resources[next]);
    }
    return order;
}
