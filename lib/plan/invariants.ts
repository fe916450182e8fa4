/**
 * The invariants 3–7 (README, "The invariants") as checks on a planned change: given what kind of change it is, the
 * configurations before and after, and the resource changes between their evaluations, which
 * invariant does it break? `plan` exits 1 on any; test/stack/invariants.test.ts asserts none.
 */
import type { Recorded } from "../program/mocks";
import { Color, COLORS, SwitchyardConfig } from "../model";
import { colorsWithTraffic, productionWeights } from "../traffic";
import { ResourceChange } from "./diff";
import { Kind, Part } from "./kind";

/** The resource types that only route traffic: changing them moves no task and replaces nothing. */
export const ROUTING_TYPES: ReadonlySet<string> = new Set([
    "aws:lb/listener:Listener",
    "aws:lb/listenerRule:ListenerRule",
    "pulumi-nodejs:dynamic:Resource",
]);

const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const SERVICE = "aws:ecs/service:Service";
const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";

export interface PlannedChange {
    readonly kind: Kind;
    /** The release steps a `combined` change is made of (lib/plan/kind.ts). */
    readonly parts?: readonly Part[];
    readonly before: SwitchyardConfig;
    readonly after: SwitchyardConfig;
    readonly changes: readonly ResourceChange[];
    /** The resources registered after the change (the desired task counts are read from them). */
    readonly beforeResources: readonly Recorded[];
    readonly afterResources: readonly Recorded[];
}

/** Every broken invariant, each naming its number, the rule and the offending resources. */
export function checkInvariants(p: PlannedChange): string[] {
    return [...routingOnly(p), ...candidateOnly(p), ...rollbackRestores(p), ...noScaleDownUnderTraffic(p), ...targetGroupsKept(p)];
}

// The type too: a Role and its RolePolicy share a name (`web-blue-exec`).
const describe = (c: ResourceChange) =>
    `${c.change} ${c.type.split(":").pop()} ${c.name}${c.properties.length ? ` (${c.properties.slice(0, 4).join(", ")}${c.properties.length > 4 ? ", …" : ""})` : ""}`;

/** The step kinds of a change: its parts when it combines several steps, else its own kind. */
function stepKinds(p: PlannedChange): readonly Kind[] {
    return p.kind === "combined" && p.parts ? p.parts.map((part) => part.kind) : [p.kind];
}

/** How a message names the change: `flip`, or `canary step + route change` for a combined one. */
const label = (p: PlannedChange) => stepKinds(p).join(" + ");

const TRAFFIC_STEPS: readonly Kind[] = ["flip", "canary step", "route change", "rollback"];
const BUILD_STEPS: readonly Kind[] = ["release", "promote", "pin"];

/**
 * 3: a flip (and a canary step, route change or rollback, which only move traffic; or several of
 * them in one edit) changes routing resources only.
 */
function routingOnly(p: PlannedChange): string[] {
    const kinds = stepKinds(p);
    if (!kinds.every((k) => TRAFFIC_STEPS.includes(k))) return [];
    // A canary step, route change or rollback may add or remove listener rules (routes); a flip changes them in place.
    const rulesMayCome = kinds.some((k) => k !== "flip");
    const bad = p.changes.filter(
        (c) =>
            !buildGone(c, p.after) &&
            (!ROUTING_TYPES.has(c.type) ||
                c.change === "replace" ||
                (c.change !== "update" && !(rulesMayCome && c.type === "aws:lb/listenerRule:ListenerRule"))),
    );
    return bad.length === 0
        ? []
        : [
              `invariant 3: a ${label(p)} may change only routing (listeners, listener rules, the health gate), but it would ${bad.map(describe).join("; ")}`,
          ];
}

/** The image build's own resources (components/serverImage.ts). */
const BUILD_TYPES: ReadonlySet<string> = new Set(["docker:index/image:Image", "random:index/randomId:RandomId"]);

/**
 * Flipping (or pinning) a `build` slot pins it to the digest it runs: with no slot left to build,
 * the build resources leave the state (the pushed image stays in ECR). No task changes.
 */
function buildGone(c: ResourceChange, after: SwitchyardConfig): boolean {
    return c.change === "delete" && BUILD_TYPES.has(c.type) && !COLORS.some((color) => after.slots[color]?.kind === "build");
}

/**
 * 4: a release (or promotion, or several of them in one edit) changes only the candidate: nothing of the live colour, no
 * production routing. A pin swaps a build for the digest it already runs, so the same holds.
 */
function candidateOnly(p: PlannedChange): string[] {
    // With the rolling strategy there is one fleet and no candidate: a release replaces its tasks by design.
    if (!stepKinds(p).every((k) => BUILD_STEPS.includes(k)) || p.after.strategy === "rolling") return [];
    const live = p.after.traffic.live;
    const bad = p.changes.filter(
        (c) => colorOf(c.name) === live || c.name.endsWith("-prod-listener") || c.type === "aws:lb/listenerRule:ListenerRule",
    );
    return bad.length === 0
        ? []
        : [
              `invariant 4: a ${label(p)} may change only the candidate's resources, but it would ${bad.map(describe).join("; ")} (${live} is live)`,
          ];
}

/** 5: a rollback (also one combined with other steps) sends nothing to the colour it rolls back from. */
function rollbackRestores(p: PlannedChange): string[] {
    if (p.kind !== "rollback" && !p.parts?.some((part) => part.kind === "rollback")) return [];
    const from = p.before.traffic.live !== p.after.traffic.live ? p.before.traffic.live : COLORS.find((c) => c !== p.after.traffic.live)!;
    const still = colorsWithTraffic(p.after).includes(from);
    return still ? [`invariant 5: a rollback must take all production traffic away from ${from}, but ${from} still gets some`] : [];
}

/**
 * 6: traffic moves to a colour only once its service is steady: the colour gaining traffic keeps
 * its service and task definition as they are; a colour losing traffic is not scaled down or
 * removed in the same update.
 */
function noScaleDownUnderTraffic(p: PlannedChange): string[] {
    const problems: string[] = [];
    for (const color of COLORS) {
        const share = (cfg: SwitchyardConfig) => productionWeights(cfg)[color] + cfg.traffic.routes.filter((r) => r.color === color).length;
        const [was, now] = [share(p.before), share(p.after)];
        const fleet = p.changes.filter((c) => colorOf(c.name) === color && (c.type === SERVICE || c.type === TASK_DEFINITION));
        if (now > was && fleet.length > 0) {
            problems.push(
                `invariant 6: ${color} gains traffic in the same update that changes its tasks (${fleet.map(describe).join("; ")}); ` +
                    `change the build first, let it become steady, then move traffic`,
            );
        }
        if (now < was) {
            const before = desiredCount(p.beforeResources, color);
            const after = desiredCount(p.afterResources, color);
            if (before !== undefined && (after === undefined || after < before)) {
                problems.push(
                    `invariant 6: ${color} loses traffic in the same update that scales it down (${before} → ${after ?? "no service"} tasks); ` +
                        `keep it warm now and scale it down in a later update (finish)`,
                );
            }
        }
    }
    return problems;
}

/** 7: no release step replaces or deletes a target group (listeners would fail with ResourceInUse). */
function targetGroupsKept(p: PlannedChange): string[] {
    if (p.kind === "other") return [];
    const bad = p.changes.filter((c) => c.type === TARGET_GROUP && (c.change === "replace" || c.change === "delete"));
    return bad.length === 0
        ? []
        : [`invariant 7: a ${label(p)} must not replace or delete a target group, but it would ${bad.map(describe).join("; ")}`];
}

/** `web-blue-svc` → blue; monitoring alarms `web-monitoring-green-5xx` → green. */
export function colorOf(name: string): Color | undefined {
    return COLORS.find((c) => new RegExp(`-${c}(-|$)`).test(name));
}

function desiredCount(resources: readonly Recorded[], color: Color): number | undefined {
    const service = resources.find((r) => r.type === SERVICE && colorOf(r.name) === color);
    return service ? Number(service.inputs.desiredCount ?? 0) : undefined;
}
