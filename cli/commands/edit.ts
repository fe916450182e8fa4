/**
 * The editing commands (start, canary, flip, rollback, finish, pin, promote): each runs its pure
 * release step on the stack file as it is under the file's lock, re-validates, writes only a
 * valid change (cli/transaction.ts) and prints one summary line. A refusal throws CliError and
 * leaves the file byte-for-byte unchanged. `rollout` calls these functions for its steps.
 */
import { Color, SchemaSupport, SwitchyardConfig, parseConfig } from "../../lib/config";
import { ConfigError } from "../../lib/problems";
import * as release from "../../lib/release";
import { candidateColor } from "../../lib/traffic";
import { Io } from "../io";
import { CliError, StackFile, commentAt, loadStackFile } from "../stackFile";
import { EditResult, editStackFile } from "../transaction";
import { digestFromStackOutput } from "./digest";

export type { Io } from "../io";
export type { EditResult } from "../transaction";

export interface StackOptions {
    readonly stack: string;
    readonly dir: string;
}

/** Runs a release step on the file's current content (under its lock), writes it, prints the summary. */
function edit(
    opts: StackOptions,
    io: Io,
    step: (cfg: SwitchyardConfig, file: StackFile) => release.StepResult,
    flag = "--stack",
): EditResult {
    const result = editStackFile(
        opts.dir,
        opts.stack,
        (file) => decided(release.runStep(file.raw, file.stack, (cfg) => step(cfg, file))),
        flag,
    );
    io.out(result.changed ? result.summary : `${result.path} unchanged: it already says that. ${result.summary}`);
    return result;
}

function decided(outcome: release.Outcome): { edits: readonly release.Edit[]; summary: string } {
    if (!outcome.ok) throw new CliError(outcome.refusal);
    return outcome;
}

/**
 * The configuration as it is now, read without the lock, to decide whether to ask pulumi for a
 * digest before taking it (a `pulumi stack output` call can take seconds; the lock is held for
 * milliseconds). Undefined when the file is invalid: the edit itself then refuses with the reasons.
 */
function peek(opts: StackOptions): SwitchyardConfig | undefined {
    const file = loadStackFile(opts.dir, opts.stack);
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

export function startCommand(
    opts: StackOptions & { image?: string; build?: string; schema?: SchemaSupport; liveDigest?: string },
    io: Io,
): EditResult {
    // A live build slot is pinned by start; ask pulumi for its digest only then.
    const liveDigest =
        opts.liveDigest ?? buildDigest(opts, io, (cfg) => (cfg.strategy === "blue-green" ? cfg.traffic.live : undefined), "--live-digest");
    return edit(opts, io, (cfg) => release.start(cfg, { image: opts.image, build: opts.build, schema: opts.schema, liveDigest }));
}

export function canaryCommand(opts: StackOptions & { percent: number; stickiness?: number }, io: Io): EditResult {
    return edit(opts, io, (cfg) => release.canary(cfg, { percent: opts.percent, stickiness: opts.stickiness }));
}

export function flipCommand(opts: StackOptions & { digest?: string }, io: Io): EditResult {
    // Only a build slot going live needs a digest; ask pulumi only then.
    const digest =
        opts.digest ??
        buildDigest(opts, io, (cfg) => {
            const cand = candidateColor(cfg);
            return cfg.strategy === "blue-green" && !cfg.slots[cand]?.idle ? cand : undefined;
        });
    return edit(opts, io, (cfg) => release.flip(cfg, { digest }));
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
    return edit(opts, io, (cfg) => release.pin(cfg, { digest }));
}

export function promoteCommand(opts: { from: string; to: string; dir: string }, io: Io): EditResult {
    if (opts.from === opts.to) throw new CliError(`--from and --to are both ${opts.from}; promote copies a build between two stacks`, 2);
    const source = loadStackFile(opts.dir, opts.from, "--from");
    const sourceCfg = decidedConfig(source);
    return edit({ stack: opts.to, dir: opts.dir }, io, (cfg) => release.promote(sourceCfg, cfg), "--to");
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
