/**
 * The release tool: `npm run switchyard -- <command> [options]` (started by cli/launch.js). It
 * edits `Pulumi.<stack>.yaml` files only (CI or a person runs `pulumi up`). Exit codes: 0 done,
 * 1 refused (nothing written), 2 usage error (unknown command or flag, missing value).
 *
 * Start-up stays fast because this file loads only commander: each command's module is loaded
 * inside its action with `load(...)`. A new command is one registration block in that style.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { Io } from "./io";
import type { SchemaSupport } from "../lib/model";

export type { Io } from "./io";

/** Loads a module when its command runs (not at start-up); `T` is its type, `typeof import("./x")`. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = <T>(id: string): T => require(id) as T;

type Edit = typeof import("./commands/edit");

const processIo: Io = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
};

function percent(value: string): number {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n >= 1 && n <= 99)) throw new InvalidArgumentError("must be a whole number 1..99 (flip sends all traffic, rollback none).");
    return n;
}

/** Canary stickiness: whole seconds in the ALB's range (a usage error otherwise, like a bad --percent). */
function seconds(value: string): number {
    const max = load<typeof import("../lib/release")>("../lib/release").MAX_STICKINESS_SECONDS;
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n >= 1 && n <= max))
        throw new InvalidArgumentError(`must be a whole number of seconds 1..${max} (one week, the ALB limit), e.g. 3600.`);
    return n;
}

/** A route's listener-rule priority: "1-50000" (ALB CreateRule, Priority); a usage error otherwise. */
function rulePriority(value: string): number {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n >= 1 && n <= 50000)) throw new InvalidArgumentError("must be a whole number 1..50000 (an ALB rule priority).");
    return n;
}

/** `--provides`: an interface version, a whole number (as `provides` in the stack file). */
function interfaceVersion(value: string): number {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!(n >= 0 && n <= 1000000)) throw new InvalidArgumentError("must be a whole number 0..1000000, e.g. 3.");
    return n;
}

/** `--requires api=2,3 --requires db=1..2`: each service once, its versions as --schema takes them; a message when not. */
function requirements(values: readonly string[]): Record<string, SchemaSupport> | string {
    const out: Record<string, SchemaSupport> = {};
    for (const value of values) {
        const at = value.indexOf("=");
        const service = at > 0 ? value.slice(0, at).trim() : "";
        if (!service) return `--requires ${value}: use <service>=<versions>, e.g. api=2,3 or api=2..3`;
        if (service in out) return `--requires names ${service} twice; give each service once`;
        const parsed = load<typeof import("../lib/release")>("../lib/release").parseSchemaArg(value.slice(at + 1));
        if ("error" in parsed) return `--requires ${value}: use versions such as 2,3 or a range such as 2..3`;
        out[service] = parsed;
    }
    return out;
}

function schema(value: string): SchemaSupport {
    const parsed = load<typeof import("../lib/release")>("../lib/release").parseSchemaArg(value);
    if ("error" in parsed) throw new InvalidArgumentError(`${parsed.error}.`);
    return parsed;
}

/** The version in package.json (next to the compiled tree as well: cli/launch.js copies it). */
function version(): string {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string }).version;
}

/** Runs the tool with `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
    let code = 0;
    const program = new Command("switchyard")
        .description("Release tool for switchyard stacks: edits Pulumi.<stack>.yaml; run pulumi up afterwards.")
        .version(version(), "--version", "print the tool's version")
        .exitOverride()
        .configureOutput({
            writeOut: (s) => io.out(s.replace(/\n$/, "")),
            writeErr: (s) => io.err(s.replace(/\n$/, "")),
        })
        .showHelpAfterError("(run with --help for usage)");

    const dirOption = () => new Option("--dir <dir>", "directory holding the Pulumi.<stack>.yaml files").default(process.cwd());
    /** A command that edits one stack file. */
    const editing = (cmd: Command) => cmd.requiredOption("--stack <name>", "the stack: edits Pulumi.<name>.yaml").addOption(dirOption());
    /** `--train NAME`: every member of a train of switchyard:trains, in one edit (not with --service). */
    const trainOption = (what = "edit") =>
        new Option("--train <name>", `${what} every member of this train of switchyard:trains at once`).conflicts("service");
    /** A command that only reads one stack file. */
    const reading = (cmd: Command) => cmd.requiredOption("--stack <name>", "the stack: reads Pulumi.<name>.yaml").addOption(dirOption());

    const { repeatable } = load<typeof import("./repeatedOptions")>("./repeatedOptions");
    reading(program.command("status").description("show both colours, their builds, tasks and traffic"))
        .option("--json", "print the status as JSON")
        .option("--service <name>", "show this service only (default: every service)")
        .addOption(trainOption("show"))
        .action((opts) => load<typeof import("./commands/status")>("./commands/status").statusCommand(opts, io));

    editing(program.command("start").description("put a new build into the candidate slot (traffic unchanged)"))
        // Repeatable for --train (<service>=<value> per member); given once otherwise (checked in the action).
        .addOption(repeatable(new Option("--image <ref>", "a digest-pinned image: <repo>@sha256:<digest> (--train: <service>=<ref>)")))
        .addOption(
            repeatable(new Option("--build <context>", "a Docker context that pulumi up builds and pushes (--train: <service>=<context>)")),
        )
        .option("--schema <versions>", "database schema versions the build supports: 3,4 or 3..5", schema)
        .option("--live-digest <ref>", "when the live slot is a build: the digest it runs (default: pulumi stack output images)")
        .option(
            "--provides <version>",
            "the interface version this build serves to services that call it (docs/trains.md)",
            interfaceVersion,
        )
        .addOption(
            repeatable(
                new Option(
                    "--requires <service=versions>",
                    "a service this build calls and the versions it works with, e.g. api=2,3 or api=2..3 (repeat per service)",
                ),
            ),
        )
        .option("--service <name>", "the service to edit (required when the stack has more than one)")
        .addOption(trainOption())
        .action((opts, cmd: Command) => {
            if (opts.image === undefined && opts.build === undefined)
                cmd.error("error: start needs --image <ref> or --build <context>", { exitCode: 2 });
            if (opts.requires !== undefined) {
                const parsed = requirements(opts.requires);
                if (typeof parsed === "string") cmd.error(`error: ${parsed}`, { exitCode: 2 });
                opts.requires = parsed;
            }
            if (opts.train !== undefined) {
                const perService = {
                    "--schema": "schema",
                    "--live-digest": "liveDigest",
                    "--provides": "provides",
                    "--requires": "requires",
                } as const;
                for (const flag of Object.keys(perService) as (keyof typeof perService)[]) {
                    if (opts[perService[flag]] !== undefined)
                        cmd.error(
                            `error: ${flag} is for one service; with --train each member's slot keeps its own (set it in the stack file)`,
                            {
                                exitCode: 2,
                            },
                        );
                }
                load<Edit>("./commands/edit").startTrainCommand(opts, io);
                return;
            }
            for (const [flag, values] of [
                ["--image <ref>", opts.image],
                ["--build <context>", opts.build],
            ] as const) {
                if (values && values.length > 1) {
                    const given = values.map((v: string) => `${flag.split(" ")[0]} ${v}`).join(", ");
                    cmd.error(`error: option '${flag}' is given ${values.length} times (${given}); give it once (or use --train)`, {
                        exitCode: 2,
                    });
                }
            }
            if (opts.image !== undefined && opts.build !== undefined)
                cmd.error("error: option '--image <ref>' cannot be used with option '--build <context>'", { exitCode: 2 });
            load<Edit>("./commands/edit").startCommand({ ...opts, image: opts.image?.[0], build: opts.build?.[0] }, io);
        });

    editing(program.command("canary").description("send a percentage of production traffic to the candidate"))
        .requiredOption("--percent <n>", "1..99", percent)
        .option("--stickiness <seconds>", "keep a client on the colour it first got for this long (ALB target group stickiness)", seconds)
        .option("--no-stickiness", "remove the canary's stickiness: each request is routed by weight")
        .option("--service <name>", "the service to edit (required when the stack has more than one)")
        .addOption(trainOption())
        .action((opts) => {
            load<Edit>("./commands/edit").canaryCommand(opts, io);
        });

    editing(program.command("flip").description("make the candidate live; the old colour stays warm for rollback"))
        .option("--digest <ref>", "the digest a build slot was pushed as (default: pulumi stack output images)")
        .option("--service <name>", "the service to edit (required when the stack has more than one)")
        .addOption(trainOption())
        .action((opts) => {
            load<Edit>("./commands/edit").flipCommand(opts, io);
        });

    editing(program.command("rollback").description("undo the flip, or remove the canary and routes"))
        .option("--service <name>", "the service to edit (required when the stack has more than one)")
        .addOption(trainOption())
        .action((opts) => {
            load<Edit>("./commands/edit").rollbackCommand(opts, io);
        });

    editing(program.command("finish").description("scale the old colour down to its idle count"))
        .option("--service <name>", "the service to edit (required when the stack has more than one)")
        .addOption(trainOption())
        .action((opts) => {
            load<Edit>("./commands/edit").finishCommand(opts, io);
        });

    editing(program.command("pin").description("pin the live build slot to the digest it runs; nothing else changes"))
        .option("--digest <ref>", "the digest the live build was pushed as (default: pulumi stack output images)")
        .option("--service <name>", "the service to edit (required when the stack has more than one)")
        .addOption(trainOption())
        .action((opts) => {
            load<Edit>("./commands/edit").pinCommand(opts, io);
        });

    program
        .command("promote")
        .description("copy the digest live in one stack into another stack's candidate slot")
        .requiredOption("--from <stack>", "the source stack, e.g. dev")
        .requiredOption("--to <stack>", "the target stack, e.g. prod")
        .option("--schema <versions>", "when the source build declares no schema: the versions it supports, 3,4 or 3..5", schema)
        .option("--service <name>", "the service, in both stacks (required when a stack has more than one)")
        .addOption(dirOption())
        .action((opts) => {
            load<Edit>("./commands/edit").promoteCommand(opts, io);
        });

    const route = program.command("route").description("add or remove a route: requests that match it always go to one colour");
    editing(route.command("add").description("send the requests that match every condition given to a colour"))
        .addOption(new Option("--color <color>", "the colour those requests go to").choices(["blue", "green"]).makeOptionMandatory())
        .option("--header <name=values>", "a header with any of these values, e.g. x-beta-user=alice,bob")
        .option("--cookie <name=value>", "a cookie with this value, e.g. beta=1")
        .addOption(repeatable(new Option("--source-ip <cidr>", "a client network, e.g. 203.0.113.0/24 (repeat: any of them)")))
        .addOption(repeatable(new Option("--host <host>", "a Host header, e.g. beta.example.com (repeat: any of them)")))
        .addOption(repeatable(new Option("--query <key=value>", "a query-string pair, e.g. beta=1 (repeat: all of them)")))
        .option("--priority <n>", "its listener-rule priority, 1..50000 (default: one above every route's)", rulePriority)
        .option("--service <name>", "the service to edit (required when the stack has more than one)")
        .action((opts) => {
            load<Edit>("./commands/edit").routeAddCommand(opts, io);
        });
    editing(route.command("remove").description("remove the route with this priority"))
        .requiredOption("--priority <n>", "the route's priority (status and the stack file show it)", rulePriority)
        .option("--service <name>", "the service to edit (required when the stack has more than one)")
        .action((opts) => {
            load<Edit>("./commands/edit").routeRemoveCommand(opts, io);
        });

    reading(program.command("verify").description("compare AWS with the stack file"))
        .option("--service <name>", "the service to check (required when the stack has more than one)")
        .action(async (opts: { stack: string; service?: string; dir: string }) => {
            const { runVerify } = load<typeof import("./verify")>("./verify");
            code = await runVerify({ stack: opts.stack, service: opts.service, dir: opts.dir, out: io.out, err: io.err });
        });

    editing(program.command("rollout").description("walk the candidate through switchyard:rollout.steps; rolls back by itself"))
        .option("--service <name>", "the service to release (required when the stack has more than one)")
        .option("--train <name>", "release a train of switchyard:trains: every member at each step, rolled back together")
        .option("--apply <command>", "apply each step with this shell command, not pulumi up (sees SWITCHYARD_STACK, SWITCHYARD_STEP)")
        .option("--commit", "git commit the stack file after each step: switchyard(<stack>): <step>")
        .option("--continue", "a person's approval: go past the first pause step this run reaches")
        .option("--digest <ref>", "when the candidate is a build: the digest it was pushed as (default: pulumi stack output images)")
        .option("--interval-seconds <n>", "poll every n seconds (overrides analysis.intervalSeconds)", (value: string) => {
            if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError("must be a whole number from 1.");
            return Number(value);
        })
        .action(async (opts) => {
            // On a terminal the progress is one line redrawn in place; anywhere else one line per poll.
            const live = io === processIo && process.stdout.isTTY ? (chunk: string) => void process.stdout.write(chunk) : undefined;
            code = await load<typeof import("./commands/rollout")>("./commands/rollout").rolloutCommand(opts, io, { live });
        });

    // No --service: sync applies the whole stack file as it is, every service's keys at once.
    reading(
        program.command("sync").description("apply the stack file as it is (every service): the recovery after a failed or killed apply"),
    )
        .option("--apply <command>", "apply with this shell command, not pulumi up (sees SWITCHYARD_STACK, SWITCHYARD_STEP=sync)")
        .action(async (opts) => {
            code = await load<typeof import("./commands/sync")>("./commands/sync").syncCommand(opts, io);
        });

    reading(program.command("plan").description("what the stack file's change does, offline: traffic, resources, invariants, undo"))
        .addOption(new Option("--base <ref>", "git ref of the deployed stack file, or none (nothing deployed)").conflicts("baseFile"))
        .addOption(new Option("--base-file <path>", "a stack file to compare with instead of git").conflicts("base"))
        .addOption(new Option("--json", "print one JSON document").conflicts("markdown"))
        .option("--markdown", "print Markdown for a pull-request comment")
        .option("--service <name>", "show this service only (default: every service)")
        .action(async (opts) => {
            code = await load<typeof import("./commands/plan")>("./commands/plan").planCommand(opts, io);
        });

    try {
        // Commander keeps the last of a repeated option; here that is a usage error (cli/repeatedOptions.ts).
        program.hook("preAction", (_, action) => {
            const repeated = load<typeof import("./repeatedOptions")>("./repeatedOptions").repeatedOption(action, argv);
            if (repeated) action.error(`error: ${repeated}`, { exitCode: 2, code: "switchyard.repeatedOption" });
        });
        await program.parseAsync([...argv], { from: "user" });
        return code;
    } catch (e) {
        if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
        const refusal = load<typeof import("./errors")>("./errors").refusalOf(e);
        if (!refusal) throw e;
        io.err(refusal.message);
        return refusal.exitCode;
    }
}

/** Runs the tool for this process: arguments from process.argv, the result in process.exitCode. */
export function runProcess(): void {
    // A reader that stops early (`| head`) closes the pipe: stop quietly, as other command-line tools do.
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code !== "EPIPE") throw e;
        process.exit(process.exitCode ?? 0);
    });
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`switchyard: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            // A crash is not "refused" or "rolled back" (1): the pipeline's net must not read it as done.
            process.exitCode = load<typeof import("./exitCodes")>("./exitCodes").EXIT.crashed;
        },
    );
}

if (require.main === module) runProcess();
