/**
 * The editing commands (start, canary, flip, rollback, finish, pin, promote): each runs its pure
 * release step on the stack file as it is under the file's lock, re-validates, writes only a
 * valid change (cli/transaction.ts) and prints one summary line. A refusal throws CliError and
 * leaves the file byte-for-byte unchanged. `rollout` calls these functions for its steps.
 */
import { Color, SchemaSupport, SwitchyardConfig, parseConfig } from "../../lib/config";
import { repositoryOf } from "../../lib/images";
import { ConfigError } from "../../lib/problems";
import * as release from "../../lib/release";
import { RouteFlags, routeAdd, routeRemove } from "../../lib/routes";
import { candidateColor } from "../../lib/traffic";
import { EXIT } from "../exitCodes";
import { Io } from "../io";
import { CliError, StackFile, commentAt, loadStackFile } from "../stackFile";
import { EditResult, editStackFile } from "../transaction";
import { buildContextProblem, contentHashOf } from "./buildContext";
import { digestFromStackOutput, findPulumi } from "./digest";
import { usageIfMissing } from "./missingStack";

export type { Io } from "../io";
export type { EditResult } from "../transaction";

export interface StackOptions {
    readonly stack: string;
    readonly dir: string;
}

/**
 * Runs a release step on the file's current content (under its lock), writes it, prints the
 * summary. A refusal of the command's own arguments exits with the usage code, any other with
 * "refused"; a step that finds its work already done writes nothing and says so.
 */
export function edit(
    opts: StackOptions,
    io: Io,
    step: (cfg: SwitchyardConfig, file: StackFile) => release.StepResult,
    flag = "--stack",
): EditResult {
    let already = false;
    const result = usageIfMissing(opts, () =>
        editStackFile(
            opts.dir,
            opts.stack,
            (file) => {
                const outcome = decided(release.runStep(file.raw, file.stack, (cfg) => step(cfg, file)));
                already = outcome.already === true;
                return outcome;
            },
            flag,
        ),
    );
    if (result.changed) io.out(result.summary);
    else if (already) io.out(`already so: ${result.summary}; ${result.path} unchanged`);
    else io.out(`${result.path} unchanged: it already says that. ${result.summary}`);
    return result;
}

function decided(outcome: release.Outcome): Extract<release.Outcome, { ok: true }> {
    if (!outcome.ok) throw new CliError(outcome.refusal, outcome.badInput ? EXIT.usage : EXIT.refused);
    return outcome;
}

/**
 * The configuration as it is now, read without the lock, to decide whether to ask pulumi for a
 * digest before taking it (a `pulumi stack output` call can take seconds; the lock is held for
 * milliseconds). Undefined when the file is invalid: the edit itself then refuses with the reasons.
 */
function peek(opts: StackOptions, flag = "--stack"): SwitchyardConfig | undefined {
    const file = usageIfMissing(opts, () => loadStackFile(opts.dir, opts.stack, flag));
    try {
        return parseConfig(file.raw, file.stack);
    } catch (e) {
        if (e instanceof ConfigError) return undefined;
        throw e;
    }
}

/** The digest of `color`'s build slot from the stack output, when that slot is a build; else undefined. */
function buildDigest(
    opts: StackOptions,
    io: Io,
    color: (cfg: SwitchyardConfig) => Color | undefined,
    flag: "--digest" | "--live-digest" = "--digest",
): string | undefined {
    const cfg = peek(opts);
    const c = cfg && color(cfg);
    return cfg && c && cfg.slots[c]?.kind === "build" ? digestFromStackOutput(opts.stack, opts.dir, c, io.env, flag) : undefined;
}

/**
 * What pinning `color`'s build slot needs besides the digest: the context's content hash (for
 * `builtFrom`) and, when `--digest` was given and the pulumi CLI is here, the repository the
 * stack output says that colour's build was pushed to. Each is undefined when it cannot be known.
 */
function pinFacts(opts: StackOptions & { digest?: string }, io: Io, color: Color | undefined): release.PinArgs {
    const cfg = peek(opts);
    const slot = cfg && color ? cfg.slots[color] : undefined;
    if (slot?.kind !== "build") return { digest: opts.digest };
    let buildRepository: string | undefined;
    if (opts.digest !== undefined && findPulumi(io.env)) {
        try {
            const pushed = digestFromStackOutput(opts.stack, opts.dir, color!, io.env);
            buildRepository = pushed && repositoryOf(pushed);
        } catch (e) {
            if (!(e instanceof CliError)) throw e; // pulumi could not say: --digest is taken as given
        }
    }
    return { digest: opts.digest, buildHash: contentHashOf(opts.dir, slot.context), buildRepository };
}

export function startCommand(
    opts: StackOptions & { image?: string; build?: string; schema?: SchemaSupport; liveDigest?: string },
    io: Io,
): EditResult {
    if (opts.build !== undefined && opts.build.trim() !== "") {
        peek(opts); // a missing stack file is named before the build folder
        const problem = buildContextProblem(opts.dir, opts.build);
        if (problem) throw new CliError(problem, EXIT.usage);
    }
    const buildHash = opts.build !== undefined && opts.build.trim() !== "" ? contentHashOf(opts.dir, opts.build) : undefined;
    // A live build slot is pinned by start; ask pulumi for its digest only then.
    const liveDigest =
        opts.liveDigest ?? buildDigest(opts, io, (cfg) => (cfg.strategy === "blue-green" ? cfg.traffic.live : undefined), "--live-digest");
    return edit(opts, io, (cfg) =>
        release.start(cfg, { image: opts.image, build: opts.build, schema: opts.schema, liveDigest, buildHash }),
    );
}

/** `canary`: `stickiness` false is `--no-stickiness` (remove it), undefined keeps it. */
export function canaryCommand(opts: StackOptions & { percent: number; stickiness?: number | false }, io: Io): EditResult {
    const stickiness = opts.stickiness === false ? null : opts.stickiness;
    return edit(opts, io, (cfg) => release.canary(cfg, { percent: opts.percent, stickiness }));
}

export function flipCommand(opts: StackOptions & { digest?: string }, io: Io): EditResult {
    const candidate = (cfg: SwitchyardConfig) => {
        const cand = candidateColor(cfg);
        // Only a build slot going live needs a digest: not after the flip (previous), not an idle one.
        return cfg.strategy === "blue-green" && !cfg.slots[cand]?.idle && cfg.traffic.previous !== cand ? cand : undefined;
    };
    const digest = opts.digest ?? buildDigest(opts, io, candidate);
    const cfg = peek(opts);
    const facts = pinFacts({ ...opts, digest: opts.digest }, io, cfg && candidate(cfg));
    return edit(opts, io, (c) => release.flip(c, { ...facts, digest }));
}

export function rollbackCommand(opts: StackOptions, io: Io): EditResult {
    return edit(opts, io, (cfg, file) => release.rollback(cfg, { rollingPrevious: rollingPrevious(file, cfg.traffic.live) }));
}

export function finishCommand(opts: StackOptions, io: Io): EditResult {
    return edit(opts, io, (cfg) => release.finish(cfg));
}

/** `pin`: the live build slot gets the digest it runs (`--digest`, else the stack output); nothing else changes. */
export function pinCommand(opts: StackOptions & { digest?: string }, io: Io): EditResult {
    const digest = opts.digest ?? buildDigest(opts, io, (cfg) => cfg.traffic.live);
    const cfg = peek(opts);
    const facts = pinFacts(opts, io, cfg?.traffic.live);
    return edit(opts, io, (c) => release.pin(c, { ...facts, digest }));
}

/** `route add`: the flags as commander gives them (repeatable ones as lists). */
export function routeAddCommand(
    opts: StackOptions & {
        color: string;
        header?: string;
        cookie?: string;
        sourceIp?: string[];
        host?: string[];
        query?: string[];
        priority?: number;
    },
    io: Io,
): EditResult {
    const flags: RouteFlags = {
        color: opts.color,
        header: opts.header,
        cookie: opts.cookie,
        sourceIps: opts.sourceIp,
        hosts: opts.host,
        queries: opts.query,
        priority: opts.priority,
    };
    return edit(opts, io, (cfg) => routeAdd(cfg, flags));
}

export function routeRemoveCommand(opts: StackOptions & { priority: number }, io: Io): EditResult {
    return edit(opts, io, (cfg) => routeRemove(cfg, opts.priority));
}

export function promoteCommand(opts: { from: string; to: string; dir: string; schema?: SchemaSupport }, io: Io): EditResult {
    if (opts.from === opts.to)
        throw new CliError(`--from and --to are both ${opts.from}; promote copies a build between two stacks`, EXIT.usage);
    const source = usageIfMissing({ stack: opts.from, dir: opts.dir }, () => loadStackFile(opts.dir, opts.from, "--from"));
    const sourceCfg = decidedConfig(source);
    return edit({ stack: opts.to, dir: opts.dir }, io, (cfg) => release.promote(sourceCfg, cfg, { schema: opts.schema }), "--to");
}

function decidedConfig(file: StackFile): SwitchyardConfig {
    const outcome = release.runStep(file.raw, file.stack, () => ({ ok: true, edits: [], summary: "" }));
    if (!outcome.ok) throw new CliError(outcome.refusal);
    return outcome.config;
}

/** The digest a rolling `start` recorded as `# previous: <digest>` on the slot's image or build. */
function rollingPrevious(file: StackFile, live: Color): string | undefined {
    const comment = commentAt(file.doc, ["slots", live, "image"]) ?? commentAt(file.doc, ["slots", live, "build"]);
    return comment ? /previous: (\S+)/.exec(comment)?.[1] : undefined;
}
