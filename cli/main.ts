/**
 * The release tool: `npm run switchyard -- <command> [options]`. It edits `Pulumi.<stack>.yaml`
 * files only (CI or a person runs `pulumi up`). Exit codes: 0 done, 1 refused (nothing written),
 * 2 usage error (unknown command or flag, missing value).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { parseSchemaArg } from "../lib/release";
import { parseConfig } from "../lib/config";
import { ConfigError } from "../lib/problems";
import { CliError, loadStackFile } from "./stackFile";
import { Io, canaryCommand, finishCommand, flipCommand, promoteCommand, rollbackCommand, startCommand } from "./commands/edit";
import { renderStatus, stackStatus } from "./commands/status";
import { runVerify } from "./verify";

export type { Io } from "./commands/edit";

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

function schema(value: string) {
    const parsed = parseSchemaArg(value);
    if ("error" in parsed) throw new InvalidArgumentError("use versions such as 3,4 or a range such as 3..5.");
    return parsed;
}

/** Runs the tool with `argv` (the arguments after the program name); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
    let code = 0;
    const program = new Command("switchyard")
        .description("Release tool for switchyard stacks: edits Pulumi.<stack>.yaml; run pulumi up afterwards.")
        .exitOverride()
        .configureOutput({
            writeOut: (s) => io.out(s.replace(/\n$/, "")),
            writeErr: (s) => io.err(s.replace(/\n$/, "")),
        })
        .showHelpAfterError("(run with --help for usage)");

    const withStack = (cmd: Command) =>
        cmd
            .requiredOption("--stack <name>", "the stack: edits Pulumi.<name>.yaml")
            .option("--dir <dir>", "directory holding the Pulumi.<stack>.yaml files", process.cwd());

    withStack(program.command("status").description("show both colours, their builds, tasks and traffic"))
        .option("--json", "print the status as JSON")
        .action((opts: { stack: string; dir: string; json?: boolean }) => {
            const file = loadStackFile(opts.dir, opts.stack);
            const status = stackStatus(parseConfig(file.raw, file.stack));
            if (opts.json) io.out(JSON.stringify(status, null, 2));
            else renderStatus(status).forEach((line) => io.out(line));
        });

    withStack(program.command("start").description("put a new build into the candidate slot (traffic unchanged)"))
        .addOption(new Option("--image <ref>", "a digest-pinned image: <repo>@sha256:<digest>").conflicts("build"))
        .addOption(new Option("--build <context>", "a Docker context that pulumi up builds and pushes").conflicts("image"))
        .option("--schema <versions>", "database schema versions the build supports: 3,4 or 3..5", schema)
        .option("--live-digest <ref>", "when the live slot is a build: the digest it runs (default: pulumi stack output images)")
        .action((opts, cmd: Command) => {
            if (opts.image === undefined && opts.build === undefined)
                cmd.error("error: start needs --image <ref> or --build <context>", { exitCode: 2 });
            startCommand(opts, io);
        });

    withStack(program.command("canary").description("send a percentage of production traffic to the candidate"))
        .requiredOption("--percent <n>", "1..99", percent)
        .action((opts) => canaryCommand(opts, io));

    withStack(program.command("flip").description("make the candidate live; the old colour stays warm for rollback"))
        .option("--digest <ref>", "the digest a build slot was pushed as (default: pulumi stack output images)")
        .action((opts) => flipCommand(opts, io));

    withStack(program.command("rollback").description("undo the flip, or remove the canary and routes")).action((opts) =>
        rollbackCommand(opts, io),
    );

    withStack(program.command("finish").description("scale the old colour down to its idle count")).action((opts) =>
        finishCommand(opts, io),
    );

    program
        .command("promote")
        .description("copy the digest live in one stack into another stack's candidate slot")
        .requiredOption("--from <stack>", "the source stack, e.g. dev")
        .requiredOption("--to <stack>", "the target stack, e.g. prod")
        .option("--dir <dir>", "directory holding the Pulumi.<stack>.yaml files", process.cwd())
        .action((opts) => promoteCommand(opts, io));

    withStack(program.command("verify").description("compare AWS with the stack file")).action(
        async (opts: { stack: string; dir: string }) => {
            code = await runVerify({ stack: opts.stack, dir: opts.dir, out: (line) => io.out(line) });
        },
    );

    try {
        await program.parseAsync([...argv], { from: "user" });
        return code;
    } catch (e) {
        if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
        if (e instanceof CliError || e instanceof ConfigError) {
            io.err(`switchyard: ${e.message}`);
            return e instanceof CliError ? e.exitCode : 1;
        }
        throw e;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => {
            process.exitCode = code;
        },
        (e: unknown) => {
            process.stderr.write(`switchyard: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
            process.exitCode = 1;
        },
    );
}
