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

/** What a command says when a person must act (EXIT.personMustAct): the file and AWS may differ. */
export interface MustAct {
    readonly command: string;
    readonly stack: string;
    readonly dir: string;
    /** The --apply command the run used, repeated in the advice. */
    readonly apply?: string;
    /** What the rollback advice names: ` --service api` or ` --train checkout` (empty for one service). */
    readonly which?: string;
    readonly reason: string;
    /** The routing the stack file asks for now. */
    readonly fileSays: string;
    /** The last apply that succeeded, and the routing it applied. */
    readonly awsLastTold: string;
}

/** The lines of a "person must act" report: what happened, what the file says, what AWS was last told, and `sync`. */
export function mustActMessage(m: MustAct): string[] {
    const dir = m.dir === process.cwd() ? "" : ` --dir ${m.dir}`;
    const apply = m.apply === undefined ? "" : ` --apply ${JSON.stringify(m.apply)}`;
    const sync = `npm run switchyard -- sync --stack ${m.stack}${dir}${apply}`;
    return [
        `switchyard: ${m.command}: a person must act: ${m.reason}`,
        `  Pulumi.${m.stack}.yaml says: ${m.fileSays}`,
        `  AWS was last told: ${m.awsLastTold}`,
        `  The file and AWS may differ. To apply what the file says: ${sync} ` +
            `(to go back to the last safe routing first: npm run switchyard -- rollback --stack ${m.stack}${m.which ?? ""}${dir}, then the same sync)`,
    ];
}
