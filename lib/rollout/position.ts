/**
 * Where a release is, read from the stack file alone, so that `rollout` can be run again after
 * an interrupt, a pause or a crashed runner and continue where the file says it is.
 */
import { Color, RolloutStep, SwitchyardConfig } from "../model";
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
