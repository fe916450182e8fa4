/**
 * What kind of change a stack-file edit is, judged from the traffic and slots before and after:
 * the release step it corresponds to (flip, canary step, route change, release, rollback,
 * finish, pin, promote), "combined" when one edit does the work of several steps (a start and a
 * flip, a canary and a route), or "other". Pure.
 *
 * Each part of the change is recognised on its own, against what the release step alone would
 * leave: a flip removes the canary and leaves routes as they are, a rollback after a flip removes
 * the canary and the routes to the colour it leaves, start pins a live build; whatever else
 * changed is a part of its own.
 */
import { Color, COLORS, Route, Slot, SwitchyardConfig, otherColor } from "../model";
import { describeSlot } from "../release";

export const KINDS = [
    "flip",
    "canary step",
    "route change",
    "release",
    "rollback",
    "finish",
    "pin",
    "promote",
    "combined",
    "other",
] as const;
export type Kind = (typeof KINDS)[number];
/** The kinds a part of a combined change can be. */
export type StepKind = Exclude<Kind, "combined" | "other">;

export interface Part {
    readonly kind: StepKind;
    /** What this part does, e.g. `flip: green becomes live (was blue); blue stays warm`. */
    readonly summary: string;
}

export interface Verdict {
    readonly kind: Kind;
    /** One sentence: what the change does. */
    readonly summary: string;
    /** The release steps the change is made of (one for a single step; none for `other`). */
    readonly parts: readonly Part[];
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
    if (!before) return { kind: "other", summary: "first deployment: nothing is deployed yet, so everything is created", parts: [] };
    const parts = partsOf(before, after, liveElsewhere);
    if (parts.length === 1) return { kind: parts[0].kind, summary: parts[0].summary, parts };
    if (parts.length > 1) {
        return {
            kind: "combined",
            summary: `combined: ${parts.length} release steps in one edit (${parts.map((p) => p.kind).join(" + ")}): ${parts.map((p) => p.summary).join("; ")}`,
            parts,
        };
    }
    return same(before, after)
        ? { kind: "other", summary: "no change: the stack file says what the base says", parts }
        : { kind: "other", summary: "other: no release step; traffic and builds as they were", parts };
}

function partsOf(before: SwitchyardConfig, after: SwitchyardConfig, liveElsewhere: ReadonlyMap<string, string>): Part[] {
    const was = before.traffic.live;
    const live = after.traffic.live;
    const parts: Part[] = [];
    const flipped = was !== live;
    const rolledBack = flipped && before.traffic.previous === live;

    // A new build in the colour that was the candidate (before a flip to it, or still the candidate).
    const candidate = after.strategy === "rolling" ? undefined : otherColor(was);
    const released = candidate !== undefined && newBuild(before.slots[candidate], after.slots[candidate], candidate === live);
    if (released) parts.push(releasePart(before, after, candidate, liveElsewhere));

    if (rolledBack) {
        parts.push({ kind: "rollback", summary: `rollback: ${live} is live again (the flip to ${was} reversed)` });
    } else if (flipped) {
        parts.push({ kind: "flip", summary: `flip: ${live} becomes live (was ${was}); ${was} stays warm` });
    }

    // What the traffic would be after the parts so far, to see what else the edit changed.
    const canaryLeft = flipped ? undefined : before.traffic.canary;
    const routesLeft = rolledBack ? before.traffic.routes.filter((r) => r.color !== was) : before.traffic.routes;
    const canaryChanged = !same(canaryLeft, after.traffic.canary);
    const routesChanged = !same(routesLeft, after.traffic.routes);
    // A rollback without a flip removes the canary and the routes to the candidate, nothing else (lib/release.ts).
    const toCandidate = (routes: readonly Route[]) => routes.filter((r) => r.color !== live);
    const rollbackShape =
        !flipped &&
        (canaryChanged || routesChanged) &&
        !after.traffic.canary &&
        same(
            after.traffic.routes,
            before.traffic.routes.filter((r) => r.color === live),
        ) &&
        (before.traffic.canary !== undefined || toCandidate(before.traffic.routes).length > 0);
    if (rollbackShape) {
        parts.push({
            kind: "rollback",
            summary: `rollback: the canary and the routes to ${otherColor(live)} are removed; ${live} serves all production traffic`,
        });
    } else {
        if (canaryChanged) parts.push(canaryPart(after, canaryLeft));
        if (routesChanged) parts.push(routePart(routesLeft, after.traffic.routes));
    }

    const idled = COLORS.filter((c: Color) => after.slots[c]?.idle && !before.slots[c]?.idle);
    if (idled.length > 0) parts.push({ kind: "finish", summary: `finish: ${idled.join(", ")} is scaled down to its idle count` });

    const wasLive = before.slots[live];
    const nowLive = after.slots[live];
    const pinned = after.strategy === "blue-green" && wasLive?.kind === "build" && nowLive?.kind === "image";
    // start pins a live build as it releases into the candidate: part of that step, not a pin of its own.
    if (pinned && !flipped && !released) {
        parts.push({
            kind: "pin",
            summary: `pin: ${live} (live) is pinned to ${describeSlot(nowLive)} (was ${describeSlot(wasLive)}); traffic unchanged`,
        });
    }
    if (!flipped && !pinned && nowLive && buildIdentity(wasLive) !== buildIdentity(nowLive)) {
        const was = `(was ${describeSlot(wasLive)})`;
        parts.push({
            kind: "release",
            summary:
                after.strategy === "rolling"
                    ? `release: ${live} (the only fleet, rolling) gets ${describeSlot(nowLive)} ${was}; ECS replaces its tasks in batches`
                    : `release into the live colour: ${live} gets ${describeSlot(nowLive)} ${was} while it serves production`,
        });
    }
    return parts;
}

/**
 * A slot holds a new build: it was empty or held another one. A build pinned to its digest as its
 * colour goes live (flip of a built candidate) is the same build (lib/plan/builds.ts).
 */
function newBuild(was: Slot | undefined, now: Slot | undefined, goesLive: boolean): boolean {
    if (!now || buildIdentity(was) === buildIdentity(now)) return false;
    return !(goesLive && was?.kind === "build" && now.kind === "image");
}

function releasePart(before: SwitchyardConfig, after: SwitchyardConfig, color: Color, liveElsewhere: ReadonlyMap<string, string>): Part {
    const slot = after.slots[color];
    const from = slot?.kind === "image" ? liveElsewhere.get(slot.image) : undefined;
    const what = describeSlot(slot);
    return from
        ? { kind: "promote", summary: `promote: ${color} (candidate) gets ${what}, live in ${from}; traffic unchanged` }
        : {
              kind: "release",
              summary: `release: ${color} (candidate) gets ${what} (was ${describeSlot(before.slots[color])}); traffic unchanged`,
          };
}

function canaryPart(after: SwitchyardConfig, was: SwitchyardConfig["traffic"]["canary"]): Part {
    const percent = after.traffic.canary?.percent ?? 0;
    return {
        kind: "canary step",
        summary: `canary step: ${otherColor(after.traffic.live)} gets ${percent}% of default traffic (was ${was?.percent ?? 0}%)`,
    };
}

function routePart(was: readonly Route[], now: readonly Route[]): Part {
    const added = now.filter((r) => !was.some((w) => same(w, r))).length;
    const removed = was.filter((w) => !now.some((r) => same(w, r))).length;
    const counts = [added ? `${added} added` : "", removed ? `${removed} removed` : ""].filter(Boolean).join(", ");
    return { kind: "route change", summary: `route change: routes ${was.length} → ${now.length} (${counts || "reordered"})` };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** What a slot runs, in full (a short digest could match two images). */
function buildIdentity(slot: Slot | undefined): string {
    return slot ? (slot.kind === "image" ? slot.image : `build ${slot.context}`) : "empty";
}
