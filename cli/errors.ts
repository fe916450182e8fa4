/** The errors a command reports as one message and an exit code, instead of a stack trace. */
import { ConfigError } from "../lib/problems";

/** A refusal or usage problem the CLI reports as one message with a non-zero exit code. */
export class CliError extends Error {
    constructor(
        message: string,
        public readonly exitCode = 1,
    ) {
        super(message);
        this.name = "CliError";
    }
}

/** The message (prefixed once with `switchyard:`) and exit code for an error a command reports; undefined for a bug. */
export function refusalOf(e: unknown): { message: string; exitCode: number } | undefined {
    if (e instanceof CliError) return { message: `switchyard: ${e.message}`, exitCode: e.exitCode };
    // ConfigError's message already starts with "switchyard: " (it is what pulumi up prints).
    if (e instanceof ConfigError) return { message: e.message, exitCode: 1 };
    return undefined;
}
