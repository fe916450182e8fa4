/**
 * `rollout --stack S [--service NAME] [--dir D] [--apply "<cmd>"] [--commit] [--interval-seconds N]`:
 * walks one service's release through its `rollout.steps` from wherever the stack file says it
 * is (`--service` is required when the stack has several). Each step is the release step of
 * lib/release.ts written by the one writer of stack files (cli/transaction.ts editService: only
 * that service's keys change), optionally committed, then applied (Automation API, or --apply);
 * each bake polls CloudWatch for that service's target groups and alarms (found by their tags and
 * names) and rolls back that service alone on a failed analysis.
 * `--train NAME` walks a train of `switchyard:trains` instead: every member in one edit
 * (editTrain) and one apply per step of train.steps, every member watched by its own analysis in
 * one batch of AWS calls per poll, every member rolled back together; a lock per member.
 * Exit codes (cli/exitCodes.ts): 0 done or paused, 1 rolled back cleanly (or stopped by someone
 * else's edit), 2 refused (nothing changed; also another rollout of the stack running), 3 a
 * person must act (the file and AWS may differ: run sync), 130 interrupted with the file and AWS
 * in agreement.
 */
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { SNSClient } from "@aws-sdk/client-sns";
import { DIGEST_PATTERN, SwitchyardConfig } from "../../lib/config";
import * as release from "../../lib/release";
import { RolloutStep, Train } from "../../lib/model";
import { ServiceSpec, serviceNamed } from "../../lib/stackSpec";
import { candidateColor } from "../../lib/traffic";
import { ConfigError } from "../../lib/problems";
import { AWS_TIMEOUTS, AwsTimeouts, cloudwatchClient, dynamodbClient, elbv2Client, snsClient } from "../../lib/aws/clients";
import { AwsError } from "../../lib/aws/errors";
import { AnalysisTargets, alarmTopics, findAnalysisTargets, readSample, readSamples } from "../../lib/aws/analysis";
import { HeldLock, LOCK_RENEW_SECONDS, LOCK_TABLE, acquireLock, rolloutLockKey } from "../../lib/aws/lock";
import { publish } from "../../lib/aws/notify";
import { automationApply, shellApply, waitingOutConcurrentUpdates } from "../../lib/rollout/apply";
import { Clock, EditRequest, Member, NOTHING_APPLIED, Outcome, RolloutEffects, runRollout, runTrain } from "../../lib/rollout/loop";
import { rolloutPosition, stepLabel, trafficText } from "../../lib/rollout/position";
import { mustActMessage } from "../errors";
import { EXIT, ExitCode } from "../exitCodes";
import { CliError, StackFile, loadStackFile } from "../stackFile";
import { editService, editTrain, serviceOf, stackSpecOf, trainOf } from "../transaction";
import type { Io } from "../io";
import { contentHashOf } from "./buildContext";
import { digestFromStackOutput, findPulumi } from "./digest";

export interface RolloutOptions {
    readonly stack: string;
    readonly dir: string;
    /** The service to release; required when the stack has more than one. */
    readonly service?: string;
    /** A train of `switchyard:trains` to release (every member at once), instead of one service. */
    readonly train?: string;
    /** A shell command that applies each step instead of the Automation API. */
    readonly apply?: string;
    /** `git commit` the stack file after each edit: `switchyard(<stack>): <step>`. */
    readonly commit?: boolean;
    /** Overrides analysis.intervalSeconds. */
    readonly intervalSeconds?: number;
    /** Go past the first pause step this run reaches (a person's approval). */
    readonly continue?: boolean;
    /** The digest a candidate `build` slot was pushed as, for its flip (default: pulumi stack output images). */
    readonly digest?: string;
}

/** What the command uses from its surroundings; tests replace the clock, the clients or the terminal. */
export interface RolloutDeps {
    readonly clock?: Clock;
    /** Set on a terminal: draws progress as one live-updating line through this writer. */
    readonly live?: (chunk: string) => void;
    readonly cloudwatch?: CloudWatchClient;
    readonly elbv2?: ElasticLoadBalancingV2Client;
    readonly sns?: SNSClient;
    readonly dynamodb?: DynamoDBClient;
    /** The timeouts of the clients rollout builds itself. @default AWS_TIMEOUTS */
    readonly timeouts?: AwsTimeouts;
}

/** The exit code of a rollout's outcome (the table in cli/exitCodes.ts, docs/rollout.md). */
export function rolloutExitCode(outcome: Outcome): ExitCode {
    switch (outcome.kind) {
        case "done":
        case "paused":
            return EXIT.ok;
        case "rolled-back":
        case "stopped":
            return EXIT.refused;
        case "refused":
            return EXIT.usage;
        case "must-act":
            return EXIT.personMustAct;
        case "interrupted":
            return EXIT.interrupted;
    }
}

/** Who runs this rollout, as a refused second run names them: user@host (pid), and the CI run's URL in GitHub Actions. */
export function lockOwner(env: NodeJS.ProcessEnv): string {
    let user = env.USER ?? env.USERNAME ?? "unknown";
    try {
        user = os.userInfo().username;
    } catch {
        // no passwd entry (some containers): the environment's name stands
    }
    const run =
        env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
            ? ` in ${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
            : "";
    return `${user}@${os.hostname()} (pid ${process.pid})${run}`;
}

export const realClock: Clock = {
    now: () => Date.now(),
    sleep: (ms, signal) =>
        new Promise((resolve) => {
            if (signal.aborted) return resolve();
            const timer = setTimeout(done, ms);
            function done() {
                clearTimeout(timer);
                signal.removeEventListener("abort", done);
                resolve();
            }
            signal.addEventListener("abort", done);
        }),
};

export async function rolloutCommand(opts: RolloutOptions, io: Io, deps: RolloutDeps = {}): Promise<number> {
    const lines = progressLines(io, deps.live);
    // Each step's summary without its "Next: pulumi up …" advice: rollout applies the step itself.
    const say = { ...io, out: (line: string) => lines.line(line.replace(/ Next: .*$/, "")) };
    const timeouts = deps.timeouts ?? AWS_TIMEOUTS;
    /** Clients rollout built (not the ones it was given): destroyed at the end, so a hung request does not keep the process up. */
    const built: { destroy(): void }[] = [];
    const own = <C extends { destroy(): void }>(given: C | undefined, make: () => C): C => {
        if (given) return given;
        const client = make();
        built.push(client);
        return client;
    };
    let setup: Setup;
    try {
        setup = await prepare(opts, deps, io.env, own, timeouts);
    } catch (e) {
        built.forEach((c) => c.destroy());
        if (e instanceof CliError || e instanceof ConfigError || e instanceof AwsError) {
            io.err(`switchyard: rollout refused, nothing changed: ${e.message}`);
            return EXIT.usage;
        }
        throw e;
    }
    const { cfg, members, topics, locks, train } = setup;
    /** Aborted by the first SIGINT/SIGTERM: stops a bake. */
    const controller = new AbortController();
    /** Aborted by the second: stops the apply under way (its processes). */
    const stopApply = new AbortController();
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals === 1) {
            lines.line(`${signal}: stopping after the current apply or poll (send it again to stop the apply too)`);
            controller.abort();
        } else if (signals === 2) {
            lines.line(`${signal} again: stopping the apply under way`);
            stopApply.abort();
        }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const renewal = setInterval(() => {
        for (const lock of locks) {
            lock.renew().then(
                (held) => {
                    if (held) return;
                    lines.line(
                        `! the rollout lock ${LOCK_TABLE}/${lock.key} expired and another run took it; stopping after the current apply or poll`,
                    );
                    controller.abort();
                },
                (e: unknown) => lines.line(`! could not renew the rollout lock ${LOCK_TABLE}/${lock.key}: ${(e as Error).message}`),
            );
        }
    }, LOCK_RENEW_SECONDS * 1000);
    renewal.unref();
    const clock = deps.clock ?? realClock;
    const cloudwatch = setup.cloudwatch;
    const sns = topics.length > 0 ? own(deps.sns, () => snsClient(setup.region, timeouts)) : undefined;
    const applyOpts = { stack: opts.stack, dir: opts.dir, env: io.env, out: lines.line };
    const apply = waitingOutConcurrentUpdates(opts.apply !== undefined ? shellApply(opts.apply, applyOpts) : automationApply(applyOpts), {
        out: applyOpts.out,
    });
    const target: EditTarget = { stack: opts.stack, dir: opts.dir, service: cfg.service.name, digest: opts.digest, env: io.env };
    const targetsOf = new Map(members.map((m) => [m.cfg.service.name, m.targets]));

    const fx: RolloutEffects = {
        read: () => readConfig(loadStackFile(opts.dir, opts.stack), cfg.service.name),
        edit: (request) => edit(request, target, say),
        apply: async (label, changed) => {
            if (changed && opts.commit) commitStackFile(opts.dir, opts.stack, train ? `train ${train.name}: ${label}` : label);
            lines.line(`applying ${label}: ${opts.apply !== undefined ? opts.apply : `pulumi up --stack ${opts.stack} (Automation API)`}`);
            await apply(label, stopApply.signal);
        },
        sample: (watched, baseline, sinceMs) =>
            readSample({ cloudwatch }, { targets: members[0].targets, stack: opts.stack, service: cfg.service.name }, watched, baseline, {
                sinceMs,
                nowMs: clock.now(),
            }),
        notify: async (subject, message) => {
            if (!sns) return;
            for (const failure of await publish(sns, topics, subject, message)) lines.line(`! ${failure}`);
        },
        progress: lines.progress,
        out: lines.line,
        clock,
        signal: controller.signal,
    };
    try {
        if (members.some((m) => flipNeedsBuildFirst(m.cfg, opts, train?.steps))) {
            try {
                await fx.apply("build", false);
            } catch (e) {
                lines.end();
                const outcome: Outcome = {
                    kind: "must-act",
                    reason: `the apply that builds the candidate did not complete, before any traffic moved: ${(e as Error).message}`,
                    fileSays: trafficText(cfg),
                    awsLastTold: NOTHING_APPLIED,
                };
                report(outcome, opts, train?.steps ?? cfg.rollout.steps, io);
                return rolloutExitCode(outcome);
            }
        }
        const runOpts = { intervalSeconds: opts.intervalSeconds, continuePastPause: opts.continue };
        const outcome = train
            ? await runTrain(
                  {
                      ...fx,
                      read: () => trainMembers(loadStackFile(opts.dir, opts.stack), train.name),
                      edit: (request) => editOfTrain(request, { ...target, train: train.name }, say),
                      sample: (watches, sinceMs) =>
                          readSamples(
                              { cloudwatch },
                              watches.map((w) => ({
                                  targets: targetsOf.get(w.member.name!)!,
                                  stack: opts.stack,
                                  service: w.member.name!,
                                  watched: w.watched,
                                  baseline: w.baseline,
                              })),
                              { sinceMs, nowMs: clock.now() },
                          ),
                  },
                  train,
                  runOpts,
              )
            : await runRollout(fx, runOpts);
        lines.end();
        report(outcome, opts, train?.steps ?? cfg.rollout.steps, io);
        return rolloutExitCode(outcome);
    } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        clearInterval(renewal);
        await releaseLocks(locks, io);
        built.forEach((c) => c.destroy());
    }
}

/** A service rollout watches: its config when the run began and its load balancer's metric dimensions. */
interface Watched {
    readonly cfg: ServiceSpec;
    readonly targets: AnalysisTargets;
}

interface Setup {
    /** The service released (a train: its first member). */
    readonly cfg: ServiceSpec;
    /** The services released: the one service, or the train's members in its order. */
    readonly members: readonly Watched[];
    /** Set for `--train`. */
    readonly train?: Train;
    readonly region: string;
    readonly topics: readonly string[];
    readonly cloudwatch: CloudWatchClient;
    /** One per service released, in its order. */
    readonly locks: readonly HeldLock[];
}

type Own = <C extends { destroy(): void }>(given: C | undefined, make: () => C) => C;

/**
 * Everything checked before the first edit: the file, the position, git, the flip's digest, the
 * resources in AWS, and last the rollout lock of the stack (refused when another run holds it).
 */
async function prepare(opts: RolloutOptions, deps: RolloutDeps, env: NodeJS.ProcessEnv, own: Own, timeouts: AwsTimeouts): Promise<Setup> {
    const file = loadStackFile(opts.dir, opts.stack);
    let train: Train | undefined;
    let services: ServiceSpec[];
    if (opts.train !== undefined) {
        if (opts.service !== undefined) {
            throw new CliError(`--service and --train: rollout releases one service or one train; give one of them`, EXIT.usage);
        }
        if (opts.digest !== undefined) {
            throw new CliError(
                `--digest pins one candidate build, but --train ${opts.train} releases several services; remove --digest ` +
                    `(each member's build is pinned to the digest pulumi stack output images says it pushed)`,
                EXIT.usage,
            );
        }
        const spec = stackSpecOf(file);
        train = trainOf(spec, opts.train);
        services = train.services.map((name) => serviceNamed(spec, name)!); // parseStack checked every member is a service
    } else {
        services = [readConfig(file, opts.service)];
    }
    for (const cfg of services) {
        const position = rolloutPosition(train ? { ...cfg, rollout: { ...cfg.rollout, steps: train.steps } } : cfg);
        if (!position.ok) throw new CliError(train ? `${cfg.service.name}: ${position.refusal}` : position.refusal, 2);
    }
    if (opts.commit) requireGit(opts.dir);
    for (const cfg of services) checkFlipDigest(cfg, opts, env);
    const fileRegion = file.doc.getIn(["config", "aws:region"]);
    const region = (typeof fileRegion === "string" && fileRegion) || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    if (!region) throw new CliError(`no AWS region: set aws:region in ${file.path} or AWS_REGION`, 2);
    const elbv2 = own(deps.elbv2, () => elbv2Client(region, timeouts));
    const cloudwatch = own(deps.cloudwatch, () => cloudwatchClient(region, timeouts));
    const members: Watched[] = [];
    const topics = new Set<string>();
    for (const cfg of services) {
        const name = cfg.service.name;
        const targets = await findAnalysisTargets({ stack: opts.stack, service: name, region, client: elbv2 });
        if (!targets) {
            throw new CliError(
                `no load balancer is tagged switchyard:stack=${opts.stack} switchyard:service=${name} in ${region}; ` +
                    `run pulumi up --stack ${opts.stack} first, so there is something to watch`,
                2,
            );
        }
        members.push({ cfg, targets });
        if (cfg.alarms.snsTopicArn) topics.add(cfg.alarms.snsTopicArn);
        for (const topic of await alarmTopics(cloudwatch, opts.stack, name)) topics.add(topic);
    }
    const dynamodb = own(deps.dynamodb, () => dynamodbClient(region, timeouts));
    const locks = await acquireLocks(dynamodb, opts.stack, services, lockOwner(env), region);
    return { cfg: services[0], members, train, region, topics: [...topics], cloudwatch, locks };
}

/**
 * The rollout lock of every service released, in order: a train takes its members' own locks
 * (the keys `rollout --service <member>` takes), so a run of either kind keeps the other out.
 * All or none: when one is held by another run, those taken are released and the run is refused.
 */
async function acquireLocks(
    dynamodb: DynamoDBClient,
    stack: string,
    services: readonly ServiceSpec[],
    owner: string,
    region: string,
): Promise<HeldLock[]> {
    const held: HeldLock[] = [];
    for (const cfg of services) {
        const service = cfg.service.name;
        const key = rolloutLockKey(stack, service);
        let acquired: Awaited<ReturnType<typeof acquireLock>>;
        try {
            acquired = await acquireLock(dynamodb, key, owner);
        } catch (e) {
            // A refused or timed-out call (not "held by another run"): release what this run took,
            // or those members stay locked until their locks expire.
            await Promise.allSettled(held.map((l) => l.release()));
            throw e;
        }
        if (acquired.ok) {
            held.push(acquired.lock);
            continue;
        }
        await Promise.allSettled(held.map((l) => l.release()));
        const holder = acquired.holder;
        throw new CliError(
            holder
                ? `another rollout of stack ${stack} (service ${service}) is running: ${holder.owner}, since ${holder.since} ` +
                      `(lock ${LOCK_TABLE}/${key} in ${region}, expires ${holder.expires} unless that run renews it); ` +
                      `wait for it to end, or stop it; a run that died frees the lock when it expires`
                : `another rollout of stack ${stack} (service ${service}) held the lock ${LOCK_TABLE}/${key} a moment ago and has just released it; run rollout again`,
            EXIT.usage,
        );
    }
    return held;
}

async function releaseLocks(locks: readonly HeldLock[], io: Io): Promise<void> {
    for (const lock of locks) {
        try {
            await lock.release();
        } catch (e) {
            io.err(
                `! could not release the rollout lock ${LOCK_TABLE}/${lock.key} (${(e as Error).message}); it expires by itself, or delete that item`,
            );
        }
    }
}

/**
 * A candidate that is a `build` slot is pinned by its flip to the digest pulumi up pushed. That
 * digest is read when the flip is edited (flipCommand asks `pulumi stack output images`), after
 * this run has applied the file that builds it, so it is never the digest of an older build. Here,
 * before anything moves: `--digest` must fit, or pulumi must be there to ask.
 */
function checkFlipDigest(cfg: SwitchyardConfig, opts: RolloutOptions, env: NodeJS.ProcessEnv): void {
    const cand = candidateColor(cfg);
    const building = !cfg.traffic.previous && cfg.slots[cand]?.kind === "build";
    if (opts.digest !== undefined) {
        if (!building) {
            throw new CliError(
                `--digest pins a candidate build slot at the flip, but ${cand} (the candidate) is not a build that is still to be flipped; remove --digest`,
                2,
            );
        }
        if (!DIGEST_PATTERN.test(opts.digest)) throw new CliError(`--digest ${opts.digest || '""'} is not <repo>@sha256:<64 hex>`, 2);
        return;
    }
    if (building && !findPulumi(env)) {
        throw new CliError(
            `${cand} (the candidate) is a build, and its flip pins it to the digest pulumi up pushed, but pulumi is not on PATH ` +
                `to read it; pass --digest <repo>@sha256:<digest> (pulumi stack output images --json --stack ${cfg.stack} shows it as ${cand})`,
            2,
        );
    }
}

/**
 * True when the flip of a build candidate would come before any apply of this run (no canary step
 * left before it): the file is applied first, so the build is pushed and the digest read at the
 * flip is this build's.
 */
function flipNeedsBuildFirst(cfg: SwitchyardConfig, opts: RolloutOptions, trainSteps?: readonly RolloutStep[]): boolean {
    if (opts.digest !== undefined || cfg.traffic.previous || cfg.slots[candidateColor(cfg)]?.kind !== "build") return false;
    const steps = trainSteps ?? cfg.rollout.steps;
    const position = rolloutPosition({ ...cfg, rollout: { ...cfg.rollout, steps } });
    if (!position.ok || position.reached >= 0) return false; // a resumed run re-applies the step it is at first
    return steps.find((s) => s.kind !== "pause")?.kind === "flip";
}

/** The train's members as the file says now, in its order. */
function trainMembers(file: StackFile, train: string): (Member & { readonly name: string })[] {
    const spec = stackSpecOf(file);
    return trainOf(spec, train).services.map((name) => ({ name, cfg: serviceNamed(spec, name)! }));
}

/** The service `--service` names (the only one when not given) as the file says now; exit 2 otherwise. */
function readConfig(file: StackFile, service: string | undefined): ServiceSpec {
    return serviceOf(file, service, "rollout");
}

interface EditTarget {
    readonly stack: string;
    readonly dir: string;
    readonly service: string;
    readonly digest?: string;
    readonly env: NodeJS.ProcessEnv;
}

/**
 * Each edit is the release step of lib/release.ts, written by the one writer of stack files
 * (editService: under the file's lock, below the service's keys, the whole file validated); a
 * refusal comes back as a refusal, nothing written. Its summary is printed as the manual command prints it.
 */
function edit(request: EditRequest, target: EditTarget, io: Io): ReturnType<RolloutEffects["edit"]> {
    try {
        const flipArgs = request.kind === "flip" ? pinArgs(target) : undefined;
        const result = editService({ dir: target.dir, stack: target.stack, service: target.service, command: "rollout" }, (cfg) =>
            releaseStep(request, cfg, flipArgs),
        );
        if (result.changed) io.out(result.summary);
        else if (result.already) io.out(`already so: ${result.summary}; ${result.path} unchanged`);
        else io.out(`${result.path} unchanged: it already says that. ${result.summary}`);
        return { ok: true, changed: result.changed };
    } catch (e) {
        if (e instanceof CliError || e instanceof ConfigError) return { ok: false, refusal: e.message };
        throw e;
    }
}

/** The release step of lib/release.ts a rollout edit is. */
function releaseStep(request: EditRequest, cfg: SwitchyardConfig, flipArgs: release.PinArgs | undefined): release.StepResult {
    return request.kind === "canary"
        ? release.canary(cfg, { percent: request.percent })
        : request.kind === "flip"
          ? release.flip(cfg, flipArgs)
          : request.kind === "finish"
            ? release.finish(cfg)
            : release.rollback(cfg);
}

/**
 * A train's edit: every member's release step in one write (editTrain: all or nothing, the
 * co-existence guard judging the train's final state). A flip pins each member's candidate build
 * as a service's flip does (pinArgs, read before the file's lock is taken).
 */
function editOfTrain(request: EditRequest, target: EditTarget & { readonly train: string }, io: Io): ReturnType<RolloutEffects["edit"]> {
    try {
        const flipArgs =
            request.kind === "flip"
                ? new Map(
                      trainMembers(loadStackFile(target.dir, target.stack), target.train).map((m) => [
                          m.name,
                          pinArgs({ ...target, service: m.name }),
                      ]),
                  )
                : undefined;
        const result = editTrain({ dir: target.dir, stack: target.stack, train: target.train }, (member) =>
            releaseStep(request, member, flipArgs?.get(member.service.name)),
        );
        io.out(result.changed ? result.summary : `${result.path} unchanged: it already says that. ${result.summary}`);
        return { ok: true, changed: result.changed };
    } catch (e) {
        if (e instanceof CliError || e instanceof ConfigError) return { ok: false, refusal: e.message };
        throw e;
    }
}

/**
 * A flip of a candidate build slot pins it: to `--digest`, else to the digest the stack output
 * says pulumi up pushed (read now, after this run applied the build), with its context's content
 * hash (`builtFrom`). Read before the file's lock is taken: `pulumi stack output` can take seconds.
 */
function pinArgs(target: EditTarget): release.PinArgs {
    const cfg = readConfig(loadStackFile(target.dir, target.stack), target.service);
    const cand = candidateColor(cfg);
    const slot = cfg.traffic.previous === cand ? undefined : cfg.slots[cand];
    if (slot?.kind !== "build") return { digest: target.digest };
    const outputService = cfg.keyPath.length > 0 ? cfg.service.name : undefined;
    return {
        digest: target.digest ?? digestFromStackOutput(target.stack, target.dir, cand, target.env, "--digest", outputService),
        buildHash: contentHashOf(target.dir, slot.context),
    };
}

function requireGit(dir: string): void {
    try {
        execFileSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    } catch {
        throw new CliError(`--commit needs a git checkout, but ${dir} is not inside one; run without --commit or from the repository`, 2);
    }
}

/** `git commit` of the stack file alone, with `switchyard(<stack>): <step>`. */
function commitStackFile(dir: string, stack: string, label: string): void {
    const file = `Pulumi.${stack}.yaml`;
    const git = (...args: string[]) => execFileSync("git", args, { cwd: path.resolve(dir), stdio: ["ignore", "pipe", "pipe"] });
    try {
        git("add", "--", file);
        git("commit", "--quiet", "-m", `switchyard(${stack}): ${label}`, "--", file);
    } catch (e) {
        const stderr = String((e as { stderr?: unknown }).stderr ?? (e as Error).message).trim();
        throw new Error(`git commit of ${file} failed: ${stderr}`, { cause: e });
    }
}

/** The closing lines: what happened, and what to run next. */
function report(outcome: Outcome, opts: RolloutOptions, steps: readonly RolloutStep[], io: Io): void {
    const stack = opts.stack;
    const which = opts.train !== undefined ? ` --train ${opts.train}` : opts.service !== undefined ? ` --service ${opts.service}` : "";
    const again = `npm run switchyard -- rollout --stack ${stack}${which}`;
    const undo = `npm run switchyard -- rollback --stack ${stack}${which}, then pulumi up --stack ${stack}`;
    switch (outcome.kind) {
        case "done":
            io.out(`rollout done: ${steps.map(stepLabel).join(", ")}`);
            for (const note of outcome.notes) io.out(`note: ${note}`);
            return;
        case "paused":
            io.out(
                `paused at step ${outcome.step + 1}/${steps.length}${outcome.after ? ` after ${outcome.after}` : ""}. ` +
                    `To continue: ${again} --continue (${outcome.after ? `it applies and bakes ${outcome.after} again, then goes past the pause` : "it goes past the pause"}). To roll back: ${undo}`,
            );
            return;
        case "rolled-back":
            io.err(`rolled back at ${outcome.step}: ${outcome.reason}`);
            return;
        case "stopped":
            io.err(`rollout stopped: ${outcome.reason}`);
            return;
        case "must-act":
            for (const line of mustActMessage({ command: "rollout", stack, dir: opts.dir, apply: opts.apply, which, ...outcome }))
                io.err(line);
            return;
        case "refused":
            io.err(`switchyard: rollout refused, nothing changed: ${outcome.reason}`);
            return;
        case "interrupted":
            io.err(
                `interrupted at step ${outcome.step + 1}/${steps.length} (${outcome.label}); Pulumi.${stack}.yaml says ${outcome.label} and is consistent. ` +
                    `To continue: ${again} (it applies ${outcome.label} again and bakes it from the start). To roll back: ${undo}`,
            );
            return;
    }
}

/** Progress lines: on a terminal one line redrawn in place, else one line per poll; other lines end the live one first. */
function progressLines(io: Io, live: ((chunk: string) => void) | undefined) {
    let open = false;
    const close = () => {
        if (open) live!("\n");
        open = false;
    };
    return {
        progress: (text: string) => {
            if (!live) return io.out(text);
            live(`\r\x1b[2K${text}`);
            open = true;
        },
        line: (text: string) => {
            close();
            io.out(text);
        },
        end: close,
    };
}
