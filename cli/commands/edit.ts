/**
 * The editing commands (start, canary, flip, rollback, finish, pin, promote, route): each runs its
 * pure release step on one service of the stack file as it is under the file's lock (`--service`,
 * required when the stack has several), and the one writer (cli/transaction.ts editService) puts
 * its edits below that service's keys, validates the whole file and writes it; one summary line is
 * printed. A refusal throws CliError and leaves the file byte-for-byte unchanged.
 */
import { Color, SchemaSupport, SwitchyardConfig } from "../../lib/config";
import { repositoryOf } from "../../lib/images";
import * as release from "../../lib/release";
import { RouteFlags, routeAdd, routeRemove } from "../../lib/routes";
import { candidateColor } from "../../lib/traffic";
import { EXIT } from "../exitCodes";
import { Io } from "../io";
import { ServiceSpec } from "../../lib/stackSpec";
import { CliError, StackFile, commentAt, loadStackFile } from "../stackFile";
import { EditResult, editService, serviceOf } from "../transaction";
import { buildContextProblem, contentHashOf } from "./buildContext";
import { digestFromStackOutput, findPulumi } from "./digest";
import { usageIfMissing } from "./missingStack";

export type { Io } from "../io";
export type { EditResult } from "../transaction";

export interface StackOptions {
    readonly stack: string;
    readonly dir: string;
    /** `--service`: which service of the stack; required when it has several. */
    readonly service?: string;
}

/**
 * Runs a release step on the file's current content (under its lock), writes it, prints the
 * summary. A refusal of the command's own arguments exits with the usage code, any other with
 * "refused"; a step that finds its work already done writes nothing and says so.
 */
export function edit(
    opts: StackOptions,
    io: Io,
    command: string,
    step: (cfg: ServiceSpec, file: StackFile) => release.StepResult,
    flag = "--stack",
): EditResult {
    const result = usageIfMissing(opts, () => editService({ ...opts, command, flag }, step));
    if (result.changed) io.out(result.summary);
    else if (result.already) io.out(`already so: ${result.summary}; ${result.path} unchanged`);
    else io.out(`${result.path} unchanged: it already says that. ${result.summary}`);
    return result;
}

/**
 * The configuration as it is now, read without the lock, to decide whether to ask pulumi for a
 * digest before taking it (a `pulumi stack output` call can take seconds; the lock is held for
 * milliseconds). Undefined when the file is invalid: the edit itself then refuses with the reasons.
 */
function peek(opts: StackOptions, flag = "--stack"): ServiceSpec | undefined {
    const file = usageIfMissing(opts, () => loadStackFile(opts.dir, opts.stack, flag));
    try {
        return serviceOf(file, opts.service, "this command"); // a refusal is the edit's to say
    } catch (e) {
        if (e instanceof CliError) return undefined;
        throw e;
    }
}

/** The service's name when its digests are under the `services` stack output (the services form); else undefined. */
function outputService(cfg: ServiceSpec): string | undefined {
    return cfg.keyPath.length > 0 ? cfg.service.name : undefined;
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
    return cfg && c && cfg.slots[c]?.kind === "build"
        ? digestFromStackOutput(opts.stack, opts.dir, c, io.env, flag, outputService(cfg))
        : undefined;
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
            const pushed = digestFromStackOutput(opts.stack, opts.dir, color!, io.env, "--digest", outputService(cfg!));
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
    return edit(opts, io, "start", (cfg) =>
        release.start(cfg, { image: opts.image, build: opts.build, schema: opts.schema, liveDigest, buildHash }),
    );
}

/** `canary`: `stickiness` false is `--no-stickiness` (remove it), undefined keeps it. */
export function canaryCommand(opts: StackOptions & { percent: number; stickiness?: number | false }, io: Io): EditResult {
    const stickiness = opts.stickiness === false ? null : opts.stickiness;
    return edit(opts, io, "canary", (cfg) => release.canary(cfg, { percent: opts.percent, stickiness }));
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
    return edit(opts, io, "flip", (c) => release.flip(c, { ...facts, digest }));
}

export function rollbackCommand(opts: StackOptions, io: Io): EditResult {
    return edit(opts, io, "rollback", (cfg, file) => release.rollback(cfg, { rollingPrevious: rollingPrevious(file, cfg) }));
}

export function finishCommand(opts: StackOptions, io: Io): EditResult {
    return edit(opts, io, "finish", (cfg) => release.finish(cfg));
}

/** `pin`: the live build slot gets the digest it runs (`--digest`, else the stack output); nothing else changes. */
export function pinCommand(opts: StackOptions & { digest?: string }, io: Io): EditResult {
    const digest = opts.digest ?? buildDigest(opts, io, (cfg) => cfg.traffic.live);
    const cfg = peek(opts);
    const facts = pinFacts(opts, io, cfg?.traffic.live);
    return edit(opts, io, "pin", (c) => release.pin(c, { ...facts, digest }));
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
    return edit(opts, io, "route add", (cfg) => routeAdd(cfg, flags));
}

export function routeRemoveCommand(opts: StackOptions & { priority: number }, io: Io): EditResult {
    return edit(opts, io, "route remove", (cfg) => routeRemove(cfg, opts.priority));
}

/** `promote`: `--service api` names the service in both stacks (api's live build goes into api's candidate slot). */
export function promoteCommand(
    opts: { from: string; to: string; dir: string; schema?: SchemaSupport; service?: string },
    io: Io,
): EditResult {
    if (opts.from === opts.to)
        throw new CliError(`--from and --to are both ${opts.from}; promote copies a build between two stacks`, EXIT.usage);
    const source = usageIfMissing({ stack: opts.from, dir: opts.dir }, () => loadStackFile(opts.dir, opts.from, "--from"));
    const sourceCfg = serviceOf(source, opts.service, "promote");
    const target = { stack: opts.to, dir: opts.dir, service: opts.service };
    return edit(target, io, "promote", (cfg) => release.promote(sourceCfg, cfg, { schema: opts.schema }), "--to");
}

/** The digest a rolling `start` recorded as `# previous: <digest>` on the live slot's image or build. */
function rollingPrevious(file: StackFile, cfg: ServiceSpec): string | undefined {
    const slot = [...cfg.keyPath, "slots", cfg.traffic.live];
    const comment = commentAt(file.doc, [...slot, "image"]) ?? commentAt(file.doc, [...slot, "build"]);
    return comment ? /previous: (\S+)/.exec(comment)?.[1] : undefined;
}
