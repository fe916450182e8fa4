/**
 * A stack file that is not there is a usage error (a wrong --stack, --from, --to or --dir): the
 * message stays the stack file reader's, the exit code becomes the usage code. Decided by the
 * file system, never by the message text.
 */
import * as fs from "node:fs";
import { CliError } from "../errors";
import { EXIT } from "../exitCodes";
import { stackFilePath } from "../stackFile";

export function usageIfMissing<T>(where: { readonly stack: string; readonly dir: string }, run: () => T): T {
    try {
        return run();
    } catch (e) {
        // Nothing at all at that path (a symbolic link to nothing is a broken file, not a wrong flag).
        const file = stackFilePath(where.dir, where.stack);
        if (e instanceof CliError && e.exitCode !== EXIT.usage && !fs.lstatSync(file, { throwIfNoEntry: false })) {
            throw new CliError(e.message, EXIT.usage);
        }
        throw e;
    }
}
