/**
 * What kind of change a stack-file edit is, judged from the traffic and slots before and after:
 * the release step it corresponds to (flip, canary step, release, rollback, finish, pin,
 * promote) or "other". Pure.
 */
import { Color, COLORS, Slot, SwitchyardConfig, otherColor } from "../model";
import { describeSlot } from "../release";

export const KINDS = ["flip", "canary step", "release", "rollback", "finish", "pin", "promote", "other"] as const;
export type Kind = (typeof KINDS)[number];

export interface Verdict {
    readonly kind: Kind;
    /** One sentence: what the change does. */
    readonly summary: string;
}

/**
 * `liveElsewhere`: the digests other stacks run live (e.g. dev's when planning prod), so a new
 * candidate image that came from there is recognised as a promotion.
 */
export function classify(
    before: SwitchyardConfig | undefined,
    after: SwitchyardConfig,
    liveElsewhere: ReadonlyMap<string, string> = new Map(),
): Verdict {
    if (!before) return { kind: "other", summary: "first deployment: nothing is deployed yet, so everything is created" };
    const live = after.traffic.live;
    if (before.traffic.live !== live) {
        return before.traffic.previous === live
            ? { kind: "rollback", summary: `rollback: ${live} is live again (the flip to ${before.traffic.live} reversed)` }
            : { kind: "flip", summary: `flip: ${live} becomes live (was ${before.traffic.live}); ${before.traffic.live} stays warm` };
    }
    if (!same(before.traffic.canary, after.traffic.canary) || !same(before.traffic.routes, after.traffic.routes)) {
        if (!after.traffic.canary && after.traffic.routes.length === 0) {
            return { kind: "rollback", summary: `rollback: the canary and routes are removed; ${live} serves all production traffic` };
        }
        const percent = after.traffic.canary?.percent ?? 0;
        return {
            kind: "canary step",
            summary: `canary step: ${otherColor(live)} gets ${percent}% of default traffic (was ${before.traffic.canary?.percent ?? 0}%)${routesNote(before, after)}`,
        };
    }
    const candidate = otherColor(live);
    const newBuild = describeSlot(after.slots[candidate]);
    if (buildIdentity(before.slots[candidate]) !== buildIdentity(after.slots[candidate]) && after.slots[candidate]) {
        const image = after.slots[candidate]?.kind === "image" ? after.slots[candidate].image : undefined;
        const from = image ? liveElsewhere.get(image) : undefined;
        return from
            ? { kind: "promote", summary: `promote: ${candidate} (candidate) gets ${newBuild}, live in ${from}; traffic unchanged` }
            : {
                  kind: "release",
                  summary: `release: ${candidate} (candidate) gets ${newBuild} (was ${describeSlot(before.slots[candidate])}); traffic unchanged`,
              };
    }
    const idled = COLORS.filter((c: Color) => after.slots[c]?.idle && !before.slots[c]?.idle);
    if (idled.length > 0) return { kind: "finish", summary: `finish: ${idled.join(", ")} is scaled down to its idle count` };
    const wasLive = before.slots[live];
    const nowLive = after.slots[live];
    if (after.strategy === "blue-green" && wasLive?.kind === "build" && nowLive?.kind === "image") {
        return {
            kind: "pin",
            summary: `pin: ${live} (live) is pinned to ${describeSlot(nowLive)} (was ${describeSlot(wasLive)}); traffic unchanged`,
        };
    }
    if (nowLive && buildIdentity(wasLive) !== buildIdentity(nowLive)) {
        const was = `(was ${describeSlot(wasLive)})`;
        return after.strategy === "rolling"
            ? {
                  kind: "release",
                  summary: `release: ${live} (the only fleet, rolling) gets ${describeSlot(nowLive)} ${was}; ECS replaces its tasks in batches`,
              }
            : {
                  kind: "release",
                  summary: `release into the live colour: ${live} gets ${describeSlot(nowLive)} ${was} while it serves production`,
              };
    }
    return same(before, after)
        ? { kind: "other", summary: "no change: the stack file says what the base says" }
        : { kind: "other", summary: "other: no release step; traffic and builds as they were" };
}

function routesNote(before: SwitchyardConfig, after: SwitchyardConfig): string {
    const [b, a] = [before.traffic.routes.length, after.traffic.routes.length];
    return same(before.traffic.routes, after.traffic.routes) ? "" : `; routes ${b} → ${a}`;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** What a slot runs, in full (a short digest could match two images). */
function buildIdentity(slot: Slot | undefined): string {
    return slot ? (slot.kind === "image" ? slot.image : `build ${slot.context}`) : "empty";
}
