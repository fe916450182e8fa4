/**
 * Commander keeps the last value of an option given twice (`--percent 10 --percent 20` is 20,
 * silently). A repeated option is a usage error here, unless it is declared repeatable (its
 * values are collected, e.g. `route add --source-ip A --source-ip B`).
 */
import { Command, Option } from "commander";

const REPEATABLE = new WeakSet<Option>();

/** An option whose every occurrence counts: its values are collected into a list. */
export function repeatable(option: Option): Option {
    REPEATABLE.add(option);
    return option.argParser((value: string, previous: unknown) => [...(Array.isArray(previous) ? previous : []), value]);
}

/**
 * The first option of `cmd` given more than once in `argv` (or given with its `--no-` form), as a
 * message; undefined when none is. Values are skipped, so `--apply "--x"` is not read as a flag.
 */
export function repeatedOption(cmd: Command, argv: readonly string[]): string | undefined {
    const seen = new Map<string, string[]>();
    for (let i = 0; i < argv.length; i++) {
        const token = argv[i];
        if (token === "--") break;
        if (!token.startsWith("--")) continue;
        const [flag, inline] = token.split(/=(.*)/s, 2);
        const option = cmd.options.find((o) => o.long === flag);
        if (!option) continue;
        const takesValue = option.required || option.optional;
        const value = takesValue ? (inline ?? argv[++i]) : undefined;
        if (REPEATABLE.has(option)) continue;
        const key = option.attributeName();
        const given = [...(seen.get(key) ?? []), value === undefined ? flag : `${flag} ${value}`];
        seen.set(key, given);
        if (given.length > 1) {
            return given.some((g) => g.startsWith("--no-")) && given.some((g) => !g.startsWith("--no-"))
                ? `${given.join(" and ")} contradict each other; give one of them`
                : `option '${option.flags}' is given ${given.length} times (${given.join(", ")}); give it once`;
        }
    }
    return undefined;
}
