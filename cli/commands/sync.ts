/**
 * `sync --stack S [--dir D] [--apply "<cmd>"]`: applies the stack file as it is, with the same
 * apply as rollout's steps (lib/rollout/apply.ts): `pulumi up` of that stack in that folder
 * through the Automation API, refreshing first, or the given command (SWITCHYARD_STEP=sync). The
 * recovery after an apply that failed or was killed (a rollback written but never applied):
 * the file is the truth, and applying it again changes nothing once AWS matches it.
 * It takes no --service: the file is applied whole, every service's keys as they are (a stack with
 * several services says each one's traffic).
 * Exit codes: 0 applied (also when interrupted once: the apply was let finish), 2 bad input
 * (nothing applied), 3 the apply did not complete (the file and AWS may still differ).
 */
import { parseStack } from "../../lib/config";
import { StackSpec } from "../../lib/stackSpec";
import { ConfigError } from "../../lib/problems";
import { ApplyError, automationApply, shellApply, waitingOutConcurrentUpdates } from "../../lib/rollout/apply";
import { trafficText } from "../../lib/rollout/position";
import { mustActMessage } from "../errors";
import { EXIT, ExitCode } from "../exitCodes";
import { CliError, loadStackFile } from "../stackFile";
import type { Io } from "../io";

export interface SyncOptions {
    readonly stack: string;
    readonly dir: string;
    /** A shell command that applies the file instead of the Automation API. */
    readonly apply?: string;
}

export async function syncCommand(opts: SyncOptions, io: Io): Promise<ExitCode> {
    let fileSays: string;
    try {
        fileSays = stackTrafficText(parseStack(loadStackFile(opts.dir, opts.stack).raw, opts.stack));
    } catch (e) {
        if (e instanceof CliError || e instanceof ConfigError) {
            io.err(e instanceof ConfigError ? e.message : `switchyard: ${e.message}`);
            io.err(`switchyard: sync refused, nothing applied`);
            return EXIT.usage;
        }
        throw e;
    }
    const applyOpts = { stack: opts.stack, dir: opts.dir, env: io.env, out: io.out };
    const apply = waitingOutConcurrentUpdates(opts.apply !== undefined ? shellApply(opts.apply, applyOpts) : automationApply(applyOpts), {
        out: applyOpts.out,
    });
    // As in rollout: the first interrupt lets the apply finish, the second stops it.
    const stop = new AbortController();
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals === 1) io.out(`${signal}: waiting for the apply to end (send it again to stop it)`);
        else if (signals === 2) stop.abort();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    io.out(
        `applying Pulumi.${opts.stack}.yaml as it is (${fileSays}): ${opts.apply ?? `pulumi up --refresh --stack ${opts.stack} (Automation API)`}`,
    );
    try {
        await apply("sync", stop.signal);
    } catch (e) {
        if (!(e instanceof ApplyError)) throw e;
        const lines = mustActMessage({
            command: "sync",
            stack: opts.stack,
            dir: opts.dir,
            apply: opts.apply,
            reason: `the apply did not complete: ${e.message}`,
            fileSays,
            awsLastTold: "unknown (this apply did not complete)",
        });
        lines.forEach((line) => io.err(line));
        return EXIT.personMustAct;
    } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
    }
    io.out(`in sync: AWS was told what Pulumi.${opts.stack}.yaml says (${fileSays})`);
    return EXIT.ok;
}

/** The traffic the file says: the one service's, or `web: live blue; api: live blue, canary 10% to green` for several. */
export function stackTrafficText(spec: StackSpec): string {
    if (spec.form === "single") return trafficText(spec.services[0]);
    return spec.services.map((s) => `${s.service.name}: ${trafficText(s)}`).join("; ");
}
