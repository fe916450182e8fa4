/**
 * The lock that serialises edits of one stack file: `<file>.lock`, a small file created
 * exclusively (O_EXCL: only one process can create it) that names its owner: process id, host
 * and since when. An edit holds it for milliseconds, so:
 *
 * - a lock whose owner process is gone on this host (`kill -9`, a power cut of the terminal) is
 *   stale at once and is taken over: `process.kill(pid, 0)` tells whether the process exists
 *   (https://nodejs.org/api/process.html#processkillpid-signal: signal 0 tests for existence;
 *   ESRCH when there is none, EPERM when it exists but belongs to another user);
 * - a lock of another host (a shared folder), or one whose owner cannot be read (being written
 *   this instant, or the `<file>.lock` folder of an older switchyard), cannot be checked that way
 *   and is stale once it is older than STALE_MS;
 * - a lock of a live process is never taken over: after WAIT_MS the command is refused, naming
 *   the owner and since when.
 *
 * Removing a stale lock is itself guarded (`<file>.lock.takeover`), so two commands that find
 * the same dead lock cannot both remove it and one of them remove the other's fresh lock.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { CliError } from "./errors";
import { errorCode } from "./stackFile";

/** How long a command waits for a live owner; an edit holds the lock for milliseconds. */
export const WAIT_MS = 5_000;
/** A lock whose owner cannot be checked is stale after this long. */
export const STALE_MS = 10_000;

export interface LockOwner {
    readonly pid: number;
    readonly host: string;
    /** ISO time the lock was taken. */
    readonly since: string;
}

/** A lock found on disk: its owner if readable, its age, and what identifies this very lock. */
interface Found {
    readonly owner?: LockOwner;
    readonly ageMs: number;
    readonly identity: string;
}

/**
 * Runs `run` holding the lock of `target` (the resolved stack file); `shown` is the path the
 * user gave, for messages. Errors of the file system (a folder that is not writable) are thrown
 * as they are, for the caller to explain.
 */
export function withStackLock<T>(target: string, shown: string, run: () => T): T {
    deferSignals();
    const lock = `${target}.lock`;
    const mine = acquire(lock, shown);
    try {
        return run();
    } finally {
        release(lock, mine);
    }
}

/** True while a process with this id exists on this host (it may belong to another user). */
export function isRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return errorCode(e) === "EPERM";
    }
}

function acquire(lock: string, shown: string): string {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
        const mine = tryCreate(lock);
        if (mine !== undefined) return mine;
        const found = inspect(lock);
        if (found === undefined) continue; // released meanwhile
        if (isStale(found)) {
            takeOver(lock, found);
            continue;
        }
        if (Date.now() > deadline) throw busy(lock, shown, found);
        sleep(20 + Math.random() * 30);
    }
}

/** Creates the lock naming this process; its content, or undefined when it already exists. */
function tryCreate(lock: string): string | undefined {
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString() };
    const content = `${JSON.stringify(owner)}\n`;
    let fd: number;
    try {
        fd = fs.openSync(lock, "wx", 0o644);
    } catch (e) {
        if (errorCode(e) === "EEXIST") return undefined;
        throw e;
    }
    try {
        fs.writeSync(fd, content);
    } catch (e) {
        fs.rmSync(lock, { force: true }); // a full disk: leave no lock without an owner behind
        throw e;
    } finally {
        fs.closeSync(fd);
    }
    return content;
}

function inspect(lock: string): Found | undefined {
    let stat: fs.Stats;
    let content = "";
    try {
        stat = fs.statSync(lock);
        if (stat.isFile()) content = fs.readFileSync(lock, "utf8");
    } catch (e) {
        if (errorCode(e) === "ENOENT") return undefined;
        throw e;
    }
    return { owner: ownerIn(content), ageMs: Date.now() - stat.mtimeMs, identity: `${stat.ino} ${stat.mtimeMs} ${content}` };
}

function ownerIn(content: string): LockOwner | undefined {
    try {
        const o = JSON.parse(content) as Partial<LockOwner>;
        return Number.isInteger(o.pid) && typeof o.host === "string" && typeof o.since === "string" ? (o as LockOwner) : undefined;
    } catch {
        return undefined; // empty (being written) or not ours
    }
}

function isStale(found: Found): boolean {
    if (found.owner && found.owner.host === os.hostname()) return !isRunning(found.owner.pid);
    return found.ageMs > STALE_MS;
}

/**
 * Removes `stale` if it is still the lock there, under the takeover guard. The guard is held for
 * microseconds; one left by a process killed in that instant is stale by the same rules.
 */
function takeOver(lock: string, stale: Found): void {
    const guard = `${lock}.takeover`;
    const mine = tryCreate(guard);
    if (mine === undefined) {
        const other = inspect(guard);
        if (other && isStale(other)) fs.rmSync(guard, { force: true });
        return; // someone else is taking it over: look again
    }
    try {
        if (inspect(lock)?.identity === stale.identity) fs.rmSync(lock, { recursive: true, force: true });
    } finally {
        release(guard, mine);
    }
}

/** Removes the lock if it is still ours (a lock taken over from us is the new owner's). */
function release(lock: string, mine: string): void {
    try {
        if (fs.readFileSync(lock, "utf8") === mine) fs.rmSync(lock, { force: true });
    } catch (e) {
        if (errorCode(e) !== "ENOENT") throw e;
    }
}

function busy(lock: string, shown: string, found: Found): CliError {
    const seconds = Math.round(found.ageMs / 1000);
    const owner = found.owner;
    const who = owner
        ? `process ${owner.pid} on ${owner.host === os.hostname() ? "this host" : `host ${owner.host}`}, since ${owner.since} (${seconds} s ago)`
        : `owner unknown, taken ${seconds} s ago`;
    const check =
        owner && owner.host === os.hostname()
            ? `; if process ${owner.pid} is not a switchyard command (a stopped one: fg or kill it), remove ${lock}`
            : `; it is taken over once it is ${STALE_MS / 1000} s old`;
    return new CliError(
        `another switchyard command holds the lock on ${shown} (${who}; lock ${lock}) for over ${WAIT_MS / 1000} s; ` +
            `nothing was written. Run this command again when it has finished${check}`,
    );
}

function sleep(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let deferring = false;

/**
 * An edit is synchronous, so a JavaScript signal handler runs only after it has finished (lock
 * released, file whole). Without a handler the default action would kill the process in the
 * middle of it. So, as signal-exit does, a handler stays installed and, when it is the only one
 * for that signal, removes itself and raises the signal again: the process then ends by the
 * signal as it would have, just not half-way through a write. Commands with their own handler
 * (rollout) keep handling it themselves: this handler goes first (prepended), so it still counts
 * a `once` handler that Node removes just before calling it.
 */
function deferSignals(): void {
    if (deferring) return;
    deferring = true;
    const onSignal = (signal: NodeJS.Signals) => {
        if (process.listenerCount(signal) > 1) return;
        for (const s of SIGNALS) process.off(s, onSignal);
        deferring = false;
        process.kill(process.pid, signal);
    };
    for (const s of SIGNALS) process.prependListener(s, onSignal);
}
