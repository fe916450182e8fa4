/**
 * The editing commands (start, canary, flip, rollback, finish, promote): load the stack file(s),
 * run the pure release step, re-validate, write only a valid change, print one summary line.
 */
import { Color, RawConfig, SchemaSupport, SwitchyardConfig } from "../../lib/config";
import * as release from "../../lib/release";
import { candidateColor } from "../../lib/traffic";
import { CliError, StackFile, commentAt, loadStackFile, writeEdits } from "../stackFile";
import { digestFromStackOutput } from "./digest";

export interface Io {
    out(line: string): void;
    err(line: string): void;
    /** Environment for child processes (PATH is searched for pulumi). */
    readonly env: NodeJS.ProcessEnv;
}

export interface StackOptions {
    readonly stack: string;
    readonly dir: string;
}

/** Runs a step on one stack file and writes the result; refusals throw CliError. */
function edit(file: StackFile, io: Io, step: (cfg: SwitchyardConfig) => release.StepResult): void {
    const outcome = release.runStep(file.raw, file.stack, step);
    report(file, io, outcome);
}

function report(file: StackFile, io: Io, outcome: release.Outcome): void {
    if (!outcome.ok) throw new CliError(outcome.refusal);
    const { changed } = writeEdits(file, outcome.edits);
    io.out(changed ? outcome.summary : `${file.path} unchanged: it already says that. ${outcome.summary}`);
}

export function startCommand(
    opts: StackOptions & { image?: string; build?: string; schema?: SchemaSupport; liveDigest?: string },
    io: Io,
): void {
    const file = loadStackFile(opts.dir, opts.stack);
    edit(file, io, (cfg) => {
        let liveDigest = opts.liveDigest;
        // A live build slot is pinned by start; ask pulumi for its digest only then.
        if (liveDigest === undefined && cfg.strategy === "blue-green" && cfg.slots[cfg.traffic.live]?.kind === "build") {
            liveDigest = digestFromStackOutput(opts.stack, opts.dir, cfg.traffic.live, io.env);
        }
        return release.start(cfg, { image: opts.image, build: opts.build, schema: opts.schema, liveDigest });
    });
}

export function canaryCommand(opts: StackOptions & { percent: number }, io: Io): void {
    const file = loadStackFile(opts.dir, opts.stack);
    edit(file, io, (cfg) => release.canary(cfg, { percent: opts.percent }));
}

export function flipCommand(opts: StackOptions & { digest?: string }, io: Io): void {
    const file = loadStackFile(opts.dir, opts.stack);
    edit(file, io, (cfg) => {
        let digest = opts.digest;
        const cand: Color = candidateColor(cfg);
        // Only a build slot going live needs a digest; ask pulumi only then.
        if (digest === undefined && cfg.strategy === "blue-green" && cfg.slots[cand]?.kind === "build" && !cfg.slots[cand]?.idle) {
            digest = digestFromStackOutput(opts.stack, opts.dir, cand, io.env);
        }
        return release.flip(cfg, { digest });
    });
}

export function rollbackCommand(opts: StackOptions, io: Io): void {
    const file = loadStackFile(opts.dir, opts.stack);
    edit(file, io, (cfg) => release.rollback(cfg, { rollingPrevious: rollingPrevious(file, cfg.traffic.live) }));
}

export function finishCommand(opts: StackOptions, io: Io): void {
    const file = loadStackFile(opts.dir, opts.stack);
    edit(file, io, (cfg) => release.finish(cfg));
}

export function promoteCommand(opts: { from: string; to: string; dir: string }, io: Io): void {
    if (opts.from === opts.to) throw new CliError(`--from and --to are both ${opts.from}; promote copies a build between two stacks`, 2);
    const source = loadStackFile(opts.dir, opts.from);
    const target = loadStackFile(opts.dir, opts.to);
    const sourceCfg = parseOrRefuse(source.raw, source.stack);
    const outcome = release.runStep(target.raw, target.stack, (cfg) => release.promote(sourceCfg, cfg));
    report(target, io, outcome);
}

function parseOrRefuse(raw: RawConfig, stack: string): SwitchyardConfig {
    const outcome = release.runStep(raw, stack, () => ({ ok: true, edits: [], summary: "" }));
    if (!outcome.ok) throw new CliError(outcome.refusal);
    return outcome.config;
}

/** The digest a rolling `start` recorded as `# previous: <digest>` on the slot's image. */
function rollingPrevious(file: StackFile, live: Color): string | undefined {
    const comment = commentAt(file.doc, ["slots", live, "image"]);
    return comment ? /previous: (\S+)/.exec(comment)?.[1] : undefined;
}
