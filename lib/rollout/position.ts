/**
 * Where a release is, read from the stack file alone, so that `rollout` can be run again after
 * an interrupt, a pause or a crashed runner and continue where the file says it is.
 */
import { COLORS, Color, RolloutStep, SwitchyardConfig } from "../model";
import { candidateColor } from "../traffic";

export type Position =
    /** `reached`: index of the last step the file already reflects; -1 when traffic has not moved yet. */
    { readonly ok: true; readonly reached: number } | { readonly ok: false; readonly refusal: string };

/**
 * A flip already made (`traffic.previous` set) means every step up to the flip is done; before the
 * flip, a canary step is done when the file's canary is at or past its percent.
 */
export function rolloutPosition(cfg: SwitchyardConfig): Position {
    const start = `npm run switchyard -- start --stack ${cfg.stack} --image <repo>@sha256:<digest> (or --build <context>)`;
    if (cfg.strategy === "rolling") {
        return refuse(
            `stack ${cfg.stack} uses switchyard:strategy rolling: one fleet, no candidate to walk to live; release with ${start}`,
        );
    }
    const steps = cfg.rollout.steps;
    const flipAt = steps.findIndex((s) => s.kind === "flip");
    if (cfg.traffic.previous) return { ok: true, reached: flipAt };
    const cand: Color = candidateColor(cfg);
    const slot = cfg.slots[cand];
    if (!slot) return refuse(`no candidate: ${cand} (the candidate slot) is empty; put a build there first: ${start}`);
    if (slot.idle) {
        return refuse(`nothing to roll out: ${cand} is idle (the last release was finished); put a new build there first: ${start}`);
    }
    const percent = cfg.traffic.canary?.percent ?? 0;
    let reached = -1;
    steps.forEach((s, i) => {
        if (s.kind === "canary" && s.percent <= percent && (flipAt < 0 || i < flipAt)) reached = i;
    });
    return { ok: true, reached };
}

/**
 * The routing a stack file asks for, in one line, for messages that say what the file says and
 * what AWS was last told: `live blue, canary 10% to green, 1 route to green`.
 */
export function trafficText(cfg: SwitchyardConfig): string {
    const parts = [`live ${cfg.traffic.live}`];
    if (cfg.traffic.canary) parts.push(`canary ${cfg.traffic.canary.percent}% to ${candidateColor(cfg)}`);
    for (const color of COLORS) {
        const routes = cfg.traffic.routes.filter((r) => r.color === color).length;
        if (routes > 0) parts.push(`${routes} route${routes === 1 ? "" : "s"} to ${color}`);
    }
    if (cfg.traffic.previous) parts.push(`${cfg.traffic.previous} kept warm for rollback`);
    const idle = COLORS.filter((c) => cfg.slots[c]?.idle);
    if (idle.length > 0) parts.push(`${idle.join(" and ")} idle`);
    return parts.join(", ");
}

/** How a step is named in progress lines, commit messages and SWITCHYARD_STEP: `canary 10`, `flip`. */
export function stepLabel(step: RolloutStep): string {
    return step.kind === "canary" ? `canary ${step.percent}` : step.kind;
}

/** Seconds the step is watched after its apply (0 for pause and finish). */
export function bakeSeconds(step: RolloutStep): number {
    return step.kind === "canary" || step.kind === "flip" ? step.bakeSeconds : 0;
}

function refuse(refusal: string): Position {
    return { ok: false, refusal };
}
