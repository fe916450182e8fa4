/**
 * The rollout loop: walk the remaining steps of `switchyard:rollout` (edit, apply, bake while
 * watching), and on a failed analysis or a failed apply after traffic moved, roll back by itself
 * (invariant 11). runTrain walks a train's members as one (`rollout --train`) with the same
 * code. Every effect (the stack-file edits, the apply, the AWS reads, the clock) is injected, so
 * the same loop runs in the CLI, against moto, and in property tests.
 */
import { AnalysisSettings, Color, RolloutStep, SwitchyardConfig } from "../model";
import { candidateColor, colorsWithTraffic } from "../traffic";
import { Sample, Verdict, describeSample, judge } from "./analysis";
import { ApplyError } from "./apply";
import { Position, bakeSeconds, rolloutPosition, stepLabel, trafficText } from "./position";

export interface Clock {
    now(): number;
    /** Resolves after `ms`, or as soon as `signal` aborts. */
    sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** An edit the loop asks for: a step's own, or the rollback. */
export type EditRequest = Exclude<RolloutStep, { kind: "pause" }> | { readonly kind: "rollback" };

export type EditResult = { readonly ok: true; readonly changed: boolean } | { readonly ok: false; readonly refusal: string };

export interface RolloutEffects {
    /** Reads and validates the stack file as it is now. */
    read(): SwitchyardConfig;
    /** The release tool's own edit (the manual command's code path); a refusal writes nothing. */
    edit(request: EditRequest): EditResult;
    /**
     * Makes the step happen: commits the stack file when `changed` (with --commit), then applies
     * it; rejects when either failed (an ApplyError says whether it was refused by a concurrent
     * update or stopped by a second interrupt).
     */
    apply(label: string, changed: boolean): Promise<void>;
    /** One poll: metrics of both colours since `sinceMs` and the watched colour's alarms. */
    sample(watched: Color, baseline: Color | undefined, sinceMs: number): Promise<Sample>;
    notify(subject: string, message: string): Promise<void>;
    /** A progress line (one live-updating line on a terminal). */
    progress(line: string): void;
    out(line: string): void;
    readonly clock: Clock;
    /** Aborted by SIGINT/SIGTERM: stops a bake, never an apply or a rollback. */
    readonly signal: AbortSignal;
}

/** One service of a release as the stack file says now; `name` is set for a train's members (messages name them). */
export interface Member {
    readonly name?: string;
    readonly cfg: SwitchyardConfig;
}

/** Which colour of a member a poll judges, against which baseline. */
export interface MemberWatch {
    readonly member: Member;
    readonly watched: Color;
    readonly baseline: Color | undefined;
}

/**
 * The effects of a release of several services walked as one (a train, `rollout --train`): the
 * members are read together, every edit is one write for all of them, and one poll samples them all
 * (in one batch of AWS calls: lib/aws/analysis.ts readSamples).
 */
export interface TrainEffects extends Omit<RolloutEffects, "read" | "sample"> {
    /** The members in the train's order, from one read of the stack file. */
    read(): readonly Member[];
    /** One poll of every member: its samples in the order of `watches`. */
    sample(watches: readonly MemberWatch[], sinceMs: number): Promise<readonly Sample[]>;
}

/** What a train is called in messages and walks: its name and `steps` (train.steps). */
export interface TrainWalk {
    readonly name: string;
    readonly steps: readonly RolloutStep[];
}

/** How a run ended; cli/commands/rollout.ts turns it into words and an exit code. */
export type Outcome =
    | { readonly kind: "done"; readonly notes: readonly string[] }
    | { readonly kind: "paused"; readonly step: number; readonly after?: string }
    /** The rollback is written and applied: AWS serves the last safe routing. */
    | { readonly kind: "rolled-back"; readonly reason: string; readonly step: string }
    /** Stopped before its next edit by a check (someone else edited the file); nothing of this run is left unapplied. */
    | { readonly kind: "stopped"; readonly reason: string }
    /** Refused before anything changed. */
    | { readonly kind: "refused"; readonly reason: string }
    /** Interrupted during a bake, or after an apply that completed: the file and AWS agree. */
    | { readonly kind: "interrupted"; readonly step: number; readonly label: string }
    /**
     * The stack file and AWS may differ: an apply (the rollback's too) failed, was stopped or was
     * refused by a concurrent update, or the rollback edit was refused. A person must look.
     */
    | { readonly kind: "must-act"; readonly reason: string; readonly fileSays: string; readonly awsLastTold: string };

/** Consecutive polls whose AWS reads fail before the analysis counts as failed (the colour is unwatched). */
export const MAX_READ_FAILURES = 3;

/** What AWS was last told when this run has applied nothing yet. */
export const NOTHING_APPLIED = "nothing by this run (AWS is as the last apply before it left it)";

type BakeResult =
    | { readonly kind: "passed"; readonly note?: string }
    | { readonly kind: "failed"; readonly reason: string }
    /** The stack file was edited by someone else during the bake: stop, neither go on nor roll back. */
    | { readonly kind: "superseded"; readonly reason: string }
    | { readonly kind: "interrupted" };

/** What a rollout edit changes, to notice an edit made by someone else. */
function releaseState(members: readonly Member[]): string {
    return JSON.stringify(members.map((m) => ({ traffic: m.cfg.traffic, slots: m.cfg.slots })));
}

/** `api: live blue, canary 10% to green; web: …` (a lone service: its traffic alone). */
function membersText(members: readonly Member[]): string {
    return members.map((m) => (m.name ? `${m.name}: ${trafficText(m.cfg)}` : trafficText(m.cfg))).join("; ");
}

/** `api: ` before a member's words; nothing for a lone service. */
function named(member: Member, text: string): string {
    return member.name ? `${member.name}: ${text}` : text;
}

/**
 * Where the members are: each one's position (rolloutPosition over `steps`), which must agree:
 * a train's edits write every member at once, so members at different steps were edited by hand.
 */
function membersPosition(members: readonly Member[], steps: readonly RolloutStep[]): Position {
    const positions = members.map((m) => ({ m, p: rolloutPosition({ ...m.cfg, rollout: { ...m.cfg.rollout, steps } }) }));
    const refusals = positions.flatMap(({ m, p }) => (p.ok ? [] : [named(m, p.refusal)]));
    if (refusals.length > 0) return { ok: false, refusal: refusals.join("; ") };
    const reached = positions.map(({ p }) => (p.ok ? p.reached : -1));
    if (reached.every((r) => r === reached[0])) return { ok: true, reached: reached[0] };
    const at = (r: number) => (r < 0 ? "before its first step" : `at step ${r + 1}/${steps.length} (${stepLabel(steps[r])})`);
    return {
        ok: false,
        refusal:
            `the members are not at the same step: ${positions.map(({ m }, i) => `${m.name} ${at(reached[i])}`).join(", ")}; ` +
            `bring them to one step with the release tool's --train commands (or roll the train back), then run rollout again`,
    };
}

export interface RolloutOptions {
    /** Overrides analysis.intervalSeconds. */
    readonly intervalSeconds?: number;
    /** A person approved going on: the first pause this run reaches is passed (every later one stops it). */
    readonly continuePastPause?: boolean;
}

/** One service's rollout: the train walk with one unnamed member and the service's own steps. */
export async function runRollout(fx: RolloutEffects, opts: RolloutOptions = {}): Promise<Outcome> {
    const members: TrainEffects = {
        ...fx,
        read: () => [{ cfg: fx.read() }],
        sample: async (watches, sinceMs) => Promise.all(watches.map((w) => fx.sample(w.watched, w.baseline, sinceMs))),
    };
    return runMembers(members, undefined, opts);
}

/**
 * `rollout --train`: walks train.steps for every member at once (one edit, one apply per step),
 * watches every member's candidate against its own live colour by its own analysis during each
 * bake, and rolls every member back on any member's failure, the reason naming the member.
 */
export async function runTrain(fx: TrainEffects, train: TrainWalk, opts: RolloutOptions = {}): Promise<Outcome> {
    return runMembers(fx, train, opts);
}

async function runMembers(fx: TrainEffects, train: TrainWalk | undefined, opts: RolloutOptions): Promise<Outcome> {
    const initialMembers = fx.read();
    const initial = initialMembers[0].cfg;
    const steps = train?.steps ?? initial.rollout.steps;
    const position = train ? membersPosition(initialMembers, steps) : rolloutPosition(initial);
    if (!position.ok) return { kind: "refused", reason: position.refusal };
    /** Each member's own analysis settings, by its name ("" for a lone service). */
    const analyses = new Map<string, AnalysisSettings>(
        initialMembers.map((m) => [
            m.name ?? "",
            { ...m.cfg.rollout.analysis, intervalSeconds: opts.intervalSeconds ?? m.cfg.rollout.analysis.intervalSeconds },
        ]),
    );
    const stack = train ? `${initial.stack} train ${train.name}` : initial.stack;
    const total = steps.length;
    const name = (i: number) => `step ${i + 1}/${total} (${stepLabel(steps[i])})`;
    const notes: string[] = [];
    /** Traffic has moved to the candidate (a step, or routes to it): from here on a failure rolls back. */
    let moved = position.reached >= 0 || initialMembers.some((m) => colorsWithTraffic(m.cfg).includes(candidateColor(m.cfg)));
    /**
     * A pause is a human gate (like Argo Rollouts' indefinite pause, passed only by an explicit
     * promote): only --continue passes it, once. Inferring the approval from the file would let a
     * run resumed after an interrupt just before a pause walk past it unapproved.
     */
    let approvals = opts.continuePastPause ? 1 : 0;
    /**
     * The routing and slots as rollout last saw or wrote them. Someone else's edit in between (a
     * person's `rollback` during a bake, say) stops the run: its next edit would undo theirs.
     */
    let expected = releaseState(initialMembers);
    const changedByOthers = (): string | undefined =>
        releaseState(fx.read()) === expected
            ? undefined
            : `Pulumi.${initial.stack}.yaml was changed by someone else while rollout ran (its traffic or slots are not what rollout ` +
              `last wrote); rollout stopped without touching it: run status to see where the release is`;

    /** The last apply that succeeded in this run: its label and the routing it applied. */
    let awsLastTold = NOTHING_APPLIED;
    const fileSays = (): string => {
        try {
            return membersText(fx.read());
        } catch (e) {
            return `nothing readable (${message(e)})`;
        }
    };
    const mustAct = (reason: string): Outcome => ({ kind: "must-act", reason, fileSays: fileSays(), awsLastTold });
    /** fx.apply, remembering what AWS was told when it succeeds. */
    const applyFile = async (label: string, changed: boolean): Promise<void> => {
        const applying = `${label} (${fileSays()})`;
        await fx.apply(label, changed);
        awsLastTold = applying;
    };

    const rollback = async (reason: string, step: string): Promise<Outcome> => {
        fx.out(`✗ ${step}: ${reason}; rolling back`);
        const edited = fx.edit({ kind: "rollback" });
        if (!edited.ok) return mustAct(`${reason}; then the rollback edit was refused: ${edited.refusal}`);
        try {
            await applyFile("rollback", edited.changed);
        } catch (e) {
            return mustAct(`${reason}; the rollback is written to the stack file but its apply did not complete: ${message(e)}`);
        }
        await fx.notify(`switchyard ${stack}: rolled back`, `${step}: ${reason}. The last safe routing is applied again.`);
        return { kind: "rolled-back", reason, step };
    };

    /** Applies the file for step `i` and bakes it; undefined when the step passed. */
    const applyAndBake = async (i: number, changed: boolean): Promise<Outcome | undefined> => {
        const step = steps[i];
        const label = stepLabel(step);
        try {
            await applyFile(label, changed);
        } catch (e) {
            const reason = `the apply of ${label} did not complete: ${message(e)}`;
            // Someone else's update is changing the stack: the step to undo may not be this run's, so nothing is rolled back.
            if (e instanceof ApplyError && e.kind === "concurrent") {
                return mustAct(`${reason}; rollout rolled nothing back, since another update is changing the stack`);
            }
            // A person interrupted the run: they decide what comes next (rollout rolls nothing back).
            if (fx.signal.aborted || (e instanceof ApplyError && e.kind === "stopped")) return mustAct(`${reason} (interrupted)`);
            if (step.kind === "finish" || !moved) return mustAct(reason);
            return rollback(reason, name(i));
        }
        if (fx.signal.aborted) return { kind: "interrupted", step: i, label };
        if (bakeSeconds(step) === 0) return undefined;
        const baked = await bake(fx, fx.read(), step, analyses, name(i), changedByOthers);
        if (baked.kind === "interrupted") return { kind: "interrupted", step: i, label };
        if (baked.kind === "superseded") return { kind: "stopped", reason: baked.reason };
        if (baked.kind === "failed") return rollback(baked.reason, name(i));
        if (baked.note) notes.push(`${name(i)}: ${baked.note}`);
        return undefined;
    };

    const walk = async (): Promise<Outcome> => {
        await fx.notify(
            `switchyard ${stack}: rollout ${position.reached >= 0 ? "resumed" : "started"}`,
            `Steps: ${steps.map(stepLabel).join(", ")}.` + (position.reached >= 0 ? ` Resuming at ${name(position.reached)}.` : ""),
        );
        if (position.reached >= 0) {
            // An interrupted run may have stopped anywhere in this step's apply or bake: do both again.
            fx.out(`${name(position.reached)}: the stack file already says so; applying it again and baking it from the start`);
            const stopped = await applyAndBake(position.reached, false);
            if (stopped) return stopped;
        }
        for (let i = position.reached + 1; i < total; i++) {
            const step = steps[i];
            if (step.kind === "pause") {
                if (approvals === 0) {
                    await fx.notify(`switchyard ${stack}: rollout paused`, `${name(i)}: waiting for a person to run rollout --continue.`);
                    return { kind: "paused", step: i, after: i > 0 ? stepLabel(steps[i - 1]) : undefined };
                }
                approvals--;
                fx.out(`${name(i)}: passed (--continue)`);
                continue;
            }
            const superseded = changedByOthers();
            if (superseded) return { kind: "stopped", reason: superseded };
            const edited = fx.edit(step);
            if (edited.ok) expected = releaseState(fx.read());
            if (!edited.ok) {
                if (moved) return rollback(`the ${stepLabel(step)} edit was refused: ${edited.refusal}`, name(i));
                return { kind: "refused", reason: edited.refusal };
            }
            if (step.kind !== "finish") moved = true;
            await fx.notify(
                `switchyard ${stack}: ${stepLabel(step)}`,
                `${name(i)} written; applying it${bakeSeconds(step) ? ` and baking ${bakeSeconds(step)} s` : ""}.`,
            );
            const stopped = await applyAndBake(i, edited.changed);
            if (stopped) return stopped;
        }
        await fx.notify(
            `switchyard ${stack}: rollout done`,
            `Every step passed: ${steps.map(stepLabel).join(", ")}.${notes.length ? ` ${notes.join(" ")}` : ""}`,
        );
        return { kind: "done", notes };
    };
    try {
        return await walk();
    } catch (e) {
        // A bug or an unreadable stack file must not leave traffic half-moved: roll back, then report it.
        if (!moved) throw e;
        try {
            return await rollback(`stopped by an unexpected error: ${message(e)}`, "rollout");
        } catch (again) {
            return mustAct(`stopped by an unexpected error (${message(e)}), and the rollback failed too: ${message(again)}`);
        }
    }
}

/**
 * Watches one step: a poll at once and then every interval (the shortest of the members') until
 * the bake is over. Each member is judged by its own analysis: the candidate against its live
 * colour during canaries, the new live colour after the flip. Any member's failed verdict ends it
 * at once. A member with too few requests at the end extends the bake once, by up to another
 * bakeSeconds; still too few then passes it on alarms alone, with a note saying so.
 */
async function bake(
    fx: TrainEffects,
    members: readonly Member[],
    step: RolloutStep,
    analyses: ReadonlyMap<string, AnalysisSettings>,
    name: string,
    changedByOthers: () => string | undefined,
): Promise<BakeResult> {
    const watches: MemberWatch[] = members.map((member) => {
        const flipped = member.cfg.traffic.previous !== undefined;
        return {
            member,
            watched: flipped ? member.cfg.traffic.live : candidateColor(member.cfg),
            baseline: flipped ? undefined : member.cfg.traffic.live,
        };
    });
    const settings = (w: MemberWatch) => analyses.get(w.member.name ?? "")!;
    const watchedText = watches.map((w) => named(w.member, w.watched)).join(", ");
    const bakeMs = bakeSeconds(step) * 1000;
    const start = fx.clock.now();
    let deadline = start + bakeMs;
    let extended = false;
    let readFailures = 0;
    for (;;) {
        const superseded = changedByOthers();
        if (superseded) return { kind: "superseded", reason: superseded };
        let verdicts: Verdict[] | undefined;
        const elapsed = () => `${clockText(fx.clock.now() - start)}/${clockText(deadline - start)}`;
        try {
            const samples = await fx.sample(watches, start);
            readFailures = 0;
            verdicts = watches.map((w, i) => judge(samples[i], settings(w)));
            fx.progress(
                `${name} ${elapsed()} · ${watches.map((w, i) => named(w.member, describeSample(samples[i], settings(w)))).join(" | ")}`,
            );
        } catch (e) {
            readFailures++;
            fx.progress(`${name} ${elapsed()} · could not read the analysis (${readFailures}/${MAX_READ_FAILURES}): ${message(e)}`);
            if (readFailures >= MAX_READ_FAILURES) {
                return {
                    kind: "failed",
                    reason: `${watchedText} cannot be watched: ${MAX_READ_FAILURES} polls in a row failed to read CloudWatch (${message(e)})`,
                };
            }
        }
        const failedAt = verdicts?.findIndex((v) => v.kind === "failed") ?? -1;
        if (verdicts && failedAt >= 0) {
            const v = verdicts[failedAt];
            return { kind: "failed", reason: named(watches[failedAt].member, v.kind === "failed" ? v.reason : "") };
        }
        const now = fx.clock.now();
        if (now >= deadline && verdicts) {
            const few = watches.filter((_, i) => verdicts![i].kind !== "healthy");
            if (few.length === 0) return { kind: "passed" };
            if (extended) {
                const note = few
                    .map((w) =>
                        named(
                            w.member,
                            `rates not judged: ${w.watched} served fewer than minRequests ${settings(w).minRequests} requests in ${clockText(now - start)}; passed on alarms alone`,
                        ),
                    )
                    .join("; ");
                fx.out(`! ${name}: ${note}`);
                return { kind: "passed", note };
            }
            extended = true;
            deadline = start + 2 * bakeMs;
            const minRequests = few.map((w) => named(w.member, `minRequests ${settings(w).minRequests}`)).join(", ");
            fx.out(`! ${name}: fewer than ${minRequests} requests so far; extending the bake by up to ${bakeMs / 1000} s`);
        }
        const interval = Math.min(...watches.map((w) => settings(w).intervalSeconds)) * 1000;
        // The last poll lands on the deadline; a poll that could not read at the deadline is retried an interval later.
        await fx.clock.sleep(now >= deadline ? interval : Math.min(interval, deadline - now), fx.signal);
        if (fx.signal.aborted) return { kind: "interrupted" };
    }
}

/** `4:05` for 245 000 ms. */
export function clockText(ms: number): string {
    const s = Math.max(0, Math.round(ms / 1000));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e);
}
