/**
 * One edit of a stack file, safe against concurrent edits and interruptions (invariant 10):
 * under a lock on the file, read it, compute the change on what it says now, validate, and
 * replace it atomically: a temporary file next to it, flushed to disk, then renamed over it,
 * but only if the file still holds the bytes that were read (a hand edit that does not take
 * the lock is not overwritten; the change is recomputed on the new content).
 *
 * The file keeps its mode, byte-order mark and line ends; a symbolic link keeps pointing at its
 * target, which is what gets edited; a read-only file is refused.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseStack } from "../lib/config";
import { ConfigError } from "../lib/problems";
import { Edit, StepResult, atKeyPath, listed } from "../lib/release";
import { chooseService } from "../lib/serviceChoice";
import { Train } from "../lib/model";
import { ServiceSpec, StackSpec, serviceNamed, trainNamed } from "../lib/stackSpec";
import { CliError } from "./errors";
import { EXIT } from "./exitCodes";
import { StackFile, encodeText, errorCode, loadStackFile, modeText, renderValidEdits, stackFilePath } from "./stackFile";
import { isRunning, withStackLock } from "./stackLock";

/** What a step decides on the file as it is now: edits and the line to print, or a refusal (CliError). */
export type Change = { readonly edits: readonly Edit[]; readonly summary: string };

export interface EditResult {
    readonly path: string;
    /** False when the file already said what the change says (it was not rewritten). */
    readonly changed: boolean;
    readonly summary: string;
}

/** A file changed by hand between read and write is re-read this many times before giving up. */
const ATTEMPTS = 3;

/**
 * Runs `decide` on the current content of `Pulumi.<stack>.yaml` and writes its edits. Two runs
 * at once are serialised: the second waits for the lock and then decides on the first one's
 * result, so each sees (and reports) the file as it really is.
 */
export function editStackFile(
    dir: string,
    stack: string,
    decide: (file: StackFile) => Change,
    flag = "--stack",
    /** The exit code when the edited file would be invalid (cli/stackFile.ts renderValidEdits). @default 1 */
    invalidExit: number = EXIT.refused,
): EditResult {
    const shown = stackFilePath(dir, stack);
    loadStackFile(dir, stack, flag); // says what is wrong with a missing, unreadable or invalid file before taking a lock
    const target = fs.realpathSync(shown); // a symbolic link: the target is locked and replaced, the link stays
    return withLock(target, shown, () => {
        for (let attempt = 1; ; attempt++) {
            const file = loadStackFile(dir, stack);
            refuseReadOnly(target, shown);
            const change = decide(file);
            const { changed, text } = renderValidEdits(file, change.edits, invalidExit);
            if (!changed) return { path: shown, changed, summary: change.summary };
            if (replaceIfUnchanged(target, file.bytes, encodeText(text, file.encoding)))
                return { path: shown, changed, summary: change.summary };
            if (attempt === ATTEMPTS) {
                throw new CliError(
                    `${shown} kept changing while this command edited it (${ATTEMPTS} attempts); nothing was written, run it again`,
                );
            }
        }
    });
}

/** A release step of one service: on its config as the file says now, edits relative to its keys. */
export type ServiceStep = (service: ServiceSpec, file: StackFile) => StepResult;

/** Which stack file and which of its services a step edits. */
export interface ServiceTarget {
    readonly dir: string;
    readonly stack: string;
    /** `--service`: required when the stack has several services, checked when given. */
    readonly service?: string;
    /** The command, for the refusal when `--service` is missing (`canary needs --service NAME`). */
    readonly command: string;
    /** The option that named the stack (`--to` for promote), so messages name it. @default "--stack" */
    readonly flag?: string;
}

export interface ServiceEditResult extends EditResult {
    /** The service the step ran on. */
    readonly service: string;
    /** The step found its work already done (a step run again after it succeeded): nothing written. */
    readonly already: boolean;
}

/**
 * The one writer of a service's release step (the release tool and `rollout` both call it): under
 * the file's lock, parse the whole file (parseStack), pick the service (`service`: `--service`,
 * required when the stack has several), run `step` on it, put its edits below the service's
 * keyPath (`["traffic","live"]` is `services.api.traffic.live` in the services form), and write
 * the file only if the whole edited file is valid (cli/stackFile.ts renderValidEdits). Only the
 * named service's keys change; everything else keeps its bytes.
 *
 * Throws CliError: exit 2 (usage) for an invalid file, a missing or unknown service and a
 * step's bad input; exit 1 (refused) for a step's refusal. Nothing is written then.
 */
export function editService(target: ServiceTarget, step: ServiceStep): ServiceEditResult {
    let already = false;
    let name = "";
    const result = editStackFile(
        target.dir,
        target.stack,
        (file) => {
            const chosen = serviceOf(file, target.service, target.command);
            name = chosen.service.name;
            const outcome = step(chosen, file);
            if (!outcome.ok) throw new CliError(outcome.refusal, outcome.badInput ? EXIT.usage : EXIT.refused);
            already = outcome.already === true;
            return { edits: atKeyPath(chosen.keyPath, outcome.edits), summary: outcome.summary };
        },
        target.flag,
    );
    return { ...result, service: name, already };
}

/** Which stack file and which of its trains a step edits (`--train NAME`). */
export interface TrainTarget {
    readonly dir: string;
    readonly stack: string;
    /** `--train`: a train of `switchyard:trains`. */
    readonly train: string;
    /** The option that named the stack, so messages name it. @default "--stack" */
    readonly flag?: string;
}

/** What the step did to one member of a train. */
export interface MemberResult {
    readonly service: string;
    readonly summary: string;
    /** The member was already in the state the step makes (nothing to change for it). */
    readonly already: boolean;
}

export interface TrainEditResult extends EditResult {
    readonly train: string;
    /** In the train's order (a service after those it requires). */
    readonly members: readonly MemberResult[];
    /** Every member was already so: nothing written. */
    readonly already: boolean;
}

/**
 * The one writer of a train's release step (`--train NAME`; `rollout --train` calls it too): under
 * the file's lock, on ONE read of the file, run `step` on every member in the train's order, put
 * each member's edits below its keys, and write them all in one replacement of the file, only if
 * the whole edited file is valid: parseStack runs the co-existence guard (invariant 13) once, on
 * the train's final state, not member by member. All or nothing: any member's refusal refuses
 * the train, naming the member, and nothing is written.
 *
 * Throws CliError: exit 2 (usage) for an invalid file, a stack without trains, an unknown train,
 * a member's bad input, and an edited file the guard (or any check of parseStack) refuses; exit 1
 * (refused) when a member's step refuses and none has bad input.
 */
export function editTrain(target: TrainTarget, step: ServiceStep): TrainEditResult {
    let members: MemberResult[] = [];
    let name = target.train;
    const result = editStackFile(
        target.dir,
        target.stack,
        (file) => {
            const spec = stackSpecOf(file);
            const train = trainOf(spec, target.train);
            name = train.name;
            const outcomes = train.services.map((service) => {
                const member = serviceNamed(spec, service)!; // parseStack checked that every member is a service of the stack
                return { member, outcome: step(member, file) };
            });
            const refusals = outcomes.flatMap(({ member, outcome }) =>
                outcome.ok ? [] : [{ service: member.service.name, refusal: outcome.refusal, badInput: outcome.badInput === true }],
            );
            if (refusals.length > 0) {
                throw new CliError(
                    `train ${train.name}: refused, so nothing was written:\n` +
                        refusals.map((r) => `  - ${r.service}: ${r.refusal}`).join("\n"),
                    refusals.some((r) => r.badInput) ? EXIT.usage : EXIT.refused,
                );
            }
            const edits: Edit[] = [];
            members = outcomes.map(({ member, outcome }) => {
                if (!outcome.ok) throw new Error("unreachable: refusals were thrown above");
                edits.push(...atKeyPath(member.keyPath, outcome.edits));
                return { service: member.service.name, summary: outcome.summary, already: outcome.already === true };
            });
            return { edits, summary: trainSummary(train.name, members) };
        },
        target.flag,
        EXIT.usage,
    );
    return { ...result, train: name, members, already: members.every((m) => m.already) };
}

/** The train `--train` names in the file as it is now; a stack without trains or an unknown name is a usage error. */
export function trainOf(spec: StackSpec, name: string): Train {
    const names = (spec.trains ?? []).map((t) => t.name);
    if (names.length === 0) {
        throw new CliError(
            `--train ${name || '""'}: stack ${spec.stack} has no trains (switchyard:trains); name one service with --service instead`,
            EXIT.usage,
        );
    }
    const train = trainNamed(spec, name);
    if (train) return train;
    throw new CliError(
        `--train ${name || '""'}: stack ${spec.stack} has no train ${name || '""'}; its train${names.length === 1 ? " is" : "s are"} ${names.join(", ")}`,
        EXIT.usage,
    );
}

/** `train checkout:` then one line per member, in the train's order. */
function trainSummary(train: string, members: readonly MemberResult[]): string {
    return [`train ${train}:`, ...members.map((m) => `  ${m.service}: ${m.already ? "already so: " : ""}${m.summary}`)].join("\n");
}

/** The service `--service` names in the file as it is now; an invalid file or a bad name is a usage error. */
export function serviceOf(file: StackFile, service: string | undefined, command: string): ServiceSpec {
    const chosen = chooseService(stackSpecOf(file), service, command);
    if (!chosen.ok) throw new CliError(chosen.refusal, EXIT.usage);
    return chosen.service;
}

/** The whole file parsed (either form); an invalid file is bad input (exit 2): the file, not the release, needs fixing. */
export function stackSpecOf(file: StackFile): StackSpec {
    try {
        return parseStack(file.raw, file.stack);
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        // The words of lib/release.ts runStep, which plan and the tests use on raw configs.
        throw new CliError(`Pulumi.${file.stack}.yaml is not valid as it stands; fix it first:\n${listed(e)}`, EXIT.usage);
    }
}

function refuseReadOnly(target: string, shown: string): void {
    const mode = fs.statSync(target).mode;
    let writable = (mode & 0o222) !== 0;
    try {
        fs.accessSync(target, fs.constants.W_OK);
    } catch {
        writable = false;
    }
    if (!writable) {
        throw new CliError(
            `${shown} is read-only (mode ${modeText(mode)}), so it was not changed; if it should change, make it writable ` +
                `(chmod u+w ${shown}) and run the command again`,
        );
    }
}

function withLock<T>(target: string, shown: string, run: () => T): T {
    try {
        return withStackLock(target, shown, () => {
            removeLeftovers(target);
            return run();
        });
    } catch (e) {
        const code = errorCode(e);
        if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw notWritableFolder(target, code);
        throw e;
    }
}

/** The folder a (resolved) stack file is in cannot be written: one message, not a stack trace. */
function notWritableFolder(target: string, code: string): CliError {
    const folder = path.dirname(target);
    return new CliError(
        code === "EROFS"
            ? `${folder} is on a read-only file system, so ${path.basename(target)} cannot be edited there; nothing was written`
            : `the folder ${folder} is not writable, so ${path.basename(target)} cannot be edited: the release tool writes the new ` +
                  `file next to it and renames it into place; make the folder writable (chmod u+w ${folder}) and run the command again`,
    );
}

/** `.Pulumi.dev.yaml.<pid>.switchyard-tmp`: hidden, and recognisable as ours. */
function tempPath(target: string): string {
    return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.switchyard-tmp`);
}

/**
 * Temporary files of this stack file whose process is gone (killed by SIGKILL, a power cut):
 * removed by the next edit. A file of a running process is left to it.
 */
function removeLeftovers(target: string): void {
    const prefix = `.${path.basename(target)}.`;
    for (const name of fs.readdirSync(path.dirname(target))) {
        const pid = name.startsWith(prefix) ? /^(\d+)\.switchyard-tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
        if (pid !== undefined && !isRunning(Number(pid))) fs.rmSync(path.join(path.dirname(target), name), { force: true });
    }
}

/**
 * Writes `bytes` to a temporary file (same mode and owner as the target), flushes it to disk,
 * and renames it over the target if the target still holds `expected`; false (nothing written)
 * if it changed. SIGINT/SIGTERM cannot cut this short: the lock defers them (cli/stackLock.ts)
 * until this synchronous code has finished.
 */
function replaceIfUnchanged(target: string, expected: Buffer, bytes: Buffer): boolean {
    const tmp = tempPath(target);
    const stat = fs.statSync(target);
    try {
        const fd = fs.openSync(tmp, "wx", stat.mode & 0o7777);
        try {
            fs.writeSync(fd, bytes);
            fs.fchmodSync(fd, stat.mode & 0o7777); // the umask does not apply to the mode we keep
            if (process.getuid?.() === 0 && (stat.uid !== 0 || stat.gid !== 0)) fs.fchownSync(fd, stat.uid, stat.gid);
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        if (!fs.readFileSync(target).equals(expected)) return false;
        fs.renameSync(tmp, target);
        syncFolder(path.dirname(target));
        return true;
    } catch (e) {
        const code = errorCode(e);
        if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw notWritableFolder(target, code);
        throw e;
    } finally {
        fs.rmSync(tmp, { force: true });
    }
}

/** Flushes the rename itself (the folder entry); not possible on every platform, so best effort. */
function syncFolder(folder: string): void {
    let fd: number | undefined;
    try {
        fd = fs.openSync(folder, "r");
        fs.fsyncSync(fd);
    } catch {
        // e.g. Windows cannot open a folder for fsync
    } finally {
        if (fd !== undefined) fs.closeSync(fd);
    }
}
