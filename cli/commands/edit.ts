/**
 * The editing commands (start, canary, flip, rollback, finish, pin, promote, route): each runs its
 * pure release step on one service of the stack file as it is under the file's lock (`--service`,
 * required when the stack has several), and the one writer (cli/transaction.ts editService) puts
 * its edits below that service's keys, validates the whole file and writes it; one summary line is
 * printed. A refusal throws CliError and leaves the file byte-for-byte unchanged.
 *
 * `--train NAME` (start, canary, flip, rollback, finish, pin): the same step on every member of
 * the train, in one write (cli/transaction.ts editTrain); one line per member, in the train's order.
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
import { EditResult, editService, editTrain, serviceOf, stackSpecOf, trainOf } from "../transaction";
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
    /** `--train`: every member of this train of `switchyard:trains` (main.ts refuses it with `--service`). */
    readonly train?: string;
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
    if (opts.train !== undefined) return editTrainOf({ ...opts, train: opts.train }, io, step, flag);
    const result = usageIfMissing(opts, () => editService({ ...opts, command, flag }, step));
    if (result.changed) io.out(result.summary);
    else if (result.already) io.out(`already so: ${result.summary}; ${result.path} unchanged`);
    else io.out(`${result.path} unchanged: it already says that. ${result.summary}`);
    return result;
}

/** `edit` with `--train`: one write for every member; the summary is a line per member. */
function editTrainOf(
    opts: StackOptions & { train: string },
    io: Io,
    step: (cfg: ServiceSpec, file: StackFile) => release.StepResult,
    flag: string,
): EditResult {
    const result = usageIfMissing(opts, () => editTrain({ dir: opts.dir, stack: opts.stack, train: opts.train, flag }, step));
    if (result.changed) io.out(result.summary);
    else if (result.already) io.out(`already so: ${result.path} unchanged; ${result.summary}`);
    else io.out(`${result.path} unchanged: it already says that. ${result.summary}`);
    return result;
}

/**
 * The members of `--train` in the file as it is now (read without the lock, like peek), each as
 * the options of that one service: what the per-member facts (digests, build hashes) are asked for.
 */
function trainMembers(opts: StackOptions & { train: string }): (StackOptions & { service: string })[] {
    const file = usageIfMissing(opts, () => loadStackFile(opts.dir, opts.stack));
    const train = trainOf(stackSpecOf(file), opts.train);
    return train.services.map((service) => ({ stack: opts.stack, dir: opts.dir, service }));
}

/**
 * `start --train`: `--image <service>=<ref>` and `--build <service>=<context>`, repeated; every
 * member named exactly once, nobody else. Each member's `schema` stays as its slot says
 * (`--schema` is for one service).
 */
export function startTrainCommand(
    opts: StackOptions & { train: string; image?: readonly string[]; build?: readonly string[] },
    io: Io,
): EditResult {
    const members = trainMembers(opts);
    const names = members.map((m) => m.service);
    const builds = new Map<string, { image?: string; build?: string }>();
    const given = [
        ...(opts.image ?? []).map((value) => ({ flag: "--image", value })),
        ...(opts.build ?? []).map((value) => ({ flag: "--build", value })),
    ];
    for (const { flag, value } of given) {
        const match = /^([^=]+)=(.*)$/s.exec(value);
        const example = flag === "--image" ? `${names[0]}=<repo>@sha256:<digest>` : `${names[0]}=./app`;
        if (!match)
            throw new CliError(`${flag} ${value}: with --train, ${flag} takes <service>=<value>, e.g. ${flag} ${example}`, EXIT.usage);
        const [, service, ref] = match;
        if (!names.includes(service))
            throw new CliError(
                `${flag} ${value}: ${service} is not a member of train ${opts.train}; its members are ${names.join(", ")}`,
                EXIT.usage,
            );
        if (builds.has(service))
            throw new CliError(`${service} is given more than one new build (${flag} ${value}); give each member one`, EXIT.usage);
        builds.set(service, flag === "--image" ? { image: ref } : { build: ref });
    }
    const missing = names.filter((n) => !builds.has(n));
    if (missing.length > 0)
        throw new CliError(
            `start --train ${opts.train} needs a new build for every member (${names.join(", ")}); none for ${missing.join(", ")}: ` +
                `give --image <service>=<ref> or --build <service>=<context> for each`,
            EXIT.usage,
        );
    const facts = new Map(
        members.map((member) => {
            const { build } = builds.get(member.service)!;
            if (build !== undefined && build.trim() !== "") {
                const problem = buildContextProblem(opts.dir, build);
                if (problem) throw new CliError(`--build ${member.service}=${build}: ${problem}`, EXIT.usage);
            }
            const buildHash = build !== undefined && build.trim() !== "" ? contentHashOf(opts.dir, build) : undefined;
            const liveDigest = buildDigest(
                member,
                io,
                (cfg) => (cfg.strategy === "blue-green" ? cfg.traffic.live : undefined),
                "--live-digest",
            );
            return [member.service, { ...builds.get(member.service)!, buildHash, liveDigest }];
        }),
    );
    return edit(opts, io, "start", (cfg) => release.start(cfg, facts.get(cfg.service.name) ?? {}));
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
    opts: StackOptions & {
        image?: string;
        build?: string;
        schema?: SchemaSupport;
        liveDigest?: string;
        provides?: number;
        requires?: Readonly<Record<string, SchemaSupport>>;
    },
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
        release.start(cfg, {
            image: opts.image,
            build: opts.build,
            schema: opts.schema,
            liveDigest,
            buildHash,
            provides: opts.provides,
            requires: opts.requires,
        }),
    );
}

/** `canary`: `stickiness` false is `--no-stickiness` (remove it), undefined keeps it. */
export function canaryCommand(opts: StackOptions & { percent: number; stickiness?: number | false }, io: Io): EditResult {
    const stickiness = opts.stickiness === false ? null : opts.stickiness;
    return edit(opts, io, "canary", (cfg) => release.canary(cfg, { percent: opts.percent, stickiness }));
}

export function flipCommand(opts: StackOptions & { digest?: string }, io: Io): EditResult {
    if (opts.train !== undefined) {
        refuseDigestWithTrain(opts);
        const facts = perMember(opts, (member) => flipFacts(member, io));
        return edit(opts, io, "flip", (c) => release.flip(c, facts.get(c.service.name)));
    }
    return edit(opts, io, "flip", (c) => release.flip(c, flipFacts(opts, io)));
}

/** What flip needs besides the file: the candidate build slot's digest and pin facts (undefined ones when not a build). */
function flipFacts(opts: StackOptions & { digest?: string }, io: Io): release.PinArgs {
    const candidate = (cfg: SwitchyardConfig) => {
        const cand = candidateColor(cfg);
        // Only a build slot going live needs a digest: not after the flip (previous), not an idle one.
        return cfg.strategy === "blue-green" && !cfg.slots[cand]?.idle && cfg.traffic.previous !== cand ? cand : undefined;
    };
    const digest = opts.digest ?? buildDigest(opts, io, candidate);
    const cfg = peek(opts);
    const facts = pinFacts({ ...opts, digest: opts.digest }, io, cfg && candidate(cfg));
    return { ...facts, digest };
}

/** `--digest` names one build; a train's members each have theirs in the stack output. */
function refuseDigestWithTrain(opts: StackOptions & { digest?: string }): void {
    if (opts.digest !== undefined)
        throw new CliError(
            `--digest names one build and --train ${opts.train} has several: each member's digest is read from ` +
                `pulumi stack output (the services output); or run the command per member with --service and --digest`,
            EXIT.usage,
        );
}

/** A fact per member of `--train` (by service name), each computed as for `--service <member>`. */
function perMember<T>(opts: StackOptions & { train?: string }, fact: (member: StackOptions & { service: string }) => T): Map<string, T> {
    return new Map(trainMembers({ ...opts, train: opts.train! }).map((m) => [m.service, fact(m)]));
}

export function rollbackCommand(opts: StackOptions, io: Io): EditResult {
    return edit(opts, io, "rollback", (cfg, file) => release.rollback(cfg, { rollingPrevious: rollingPrevious(file, cfg) }));
}

export function finishCommand(opts: StackOptions, io: Io): EditResult {
    return edit(opts, io, "finish", (cfg) => release.finish(cfg));
}

/** `pin`: the live build slot gets the digest it runs (`--digest`, else the stack output); nothing else changes. */
export function pinCommand(opts: StackOptions & { digest?: string }, io: Io): EditResult {
    if (opts.train !== undefined) {
        refuseDigestWithTrain(opts);
        const facts = perMember(opts, (member) => pinArgs(member, io));
        return edit(opts, io, "pin", (c) => release.pin(c, facts.get(c.service.name)));
    }
    return edit(opts, io, "pin", (c) => release.pin(c, pinArgs(opts, io)));
}

/** What pin needs besides the file: the live build slot's digest and pin facts. */
function pinArgs(opts: StackOptions & { digest?: string }, io: Io): release.PinArgs {
    const digest = opts.digest ?? buildDigest(opts, io, (cfg) => cfg.traffic.live);
    const cfg = peek(opts);
    const facts = pinFacts(opts, io, cfg?.traffic.live);
    return { ...facts, digest };
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
