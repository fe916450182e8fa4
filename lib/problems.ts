/**
 * Thrown when the stack configuration is invalid. Lists every problem at once, each naming its
 * key and the fix. Pulumi treats it as a RunError, so `pulumi up` prints the message without a
 * stack trace: RunError.isInstance checks only a `__pulumiRunError: true` member ("designed to
 * work even when multiple copies of the Pulumi SDK have been loaded"; @pulumi/pulumi errors.js,
 * used by cmd/run/run.js for uncaught errors). Carrying the member instead of importing RunError
 * keeps @pulumi/pulumi (and grpc, ~50 ms) out of the release tool's start-up.
 */
export class ConfigError extends Error {
    readonly __pulumiRunError = true;

    constructor(public readonly problems: readonly string[]) {
        super(
            `switchyard: the stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
                problems.map((p) => `  - ${p}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/**
 * A stack configuration that is valid but for the co-existence guard (invariant 13,
 * lib/coexistence.ts): builds with traffic that cannot call each other. The release tool answers
 * an edit that would produce it with exit 2, as issue 17 asks; `pulumi up` sees a ConfigError.
 */
export class CoexistenceError extends ConfigError {
    constructor(problems: readonly string[]) {
        super(problems);
        this.name = "CoexistenceError";
    }
}

type Obj = Record<string, unknown>;

/**
 * Where the keys a message names live in the stack file. The section parsers name the
 * single-service keys (`switchyard:traffic.live`); in `switchyard:services` the same section is
 * `switchyard:services.api.traffic.live`. The one place that maps one to the other.
 */
export type KeyNamespace = (message: string) => string;

/** The single-service form: keys are where the section parsers say. */
export const TOP_LEVEL: KeyNamespace = (message) => message;

/**
 * Every `switchyard:<key>` of `keys` named in a message moves under `switchyard:<prefix>`:
 * `nestedKeys("services.api", ["traffic"])` turns `switchyard:traffic.routes[0]` into
 * `switchyard:services.api.traffic.routes[0]` and leaves `switchyard:https` (stack-wide) alone.
 */
export function nestedKeys(prefix: string, keys: readonly string[]): KeyNamespace {
    // `\b` after the key: `switchyard:service` must not match the start of `switchyard:services`.
    const key = new RegExp(`switchyard:(${keys.join("|")})\\b`, "g");
    return (message) => message.replace(key, (_, section: string) => `switchyard:${prefix}.${section}`);
}

/** Collects validation problems; readers record a problem and return `undefined` on bad input. */
export class Problems {
    private readonly list: string[] = [];

    constructor(private readonly namespace: KeyNamespace = TOP_LEVEL) {}

    /** Records a problem, its keys moved to where they live (see KeyNamespace); a repeat is kept once. */
    add(problem: string): void {
        const named = this.namespace(problem);
        if (!this.list.includes(named)) this.list.push(named);
    }

    /** Everything collected so far, in order. */
    get all(): readonly string[] {
        return this.list;
    }

    get count(): number {
        return this.list.length;
    }

    /** Throws one ConfigError listing everything collected so far, if anything was. */
    throwIfAny(): void {
        if (this.list.length > 0) {
            throw new ConfigError(this.list);
        }
    }

    /** An optional object at `key`; `undefined` (and no problem) when absent. */
    object(key: string, value: unknown, known: readonly string[]): Obj | undefined {
        if (value === undefined || value === null) {
            return undefined;
        }
        if (typeof value !== "object" || Array.isArray(value)) {
            this.add(`${key} must be a map of keys (got ${describe(value)})`);
            return undefined;
        }
        for (const k of Object.keys(value)) {
            if (!known.includes(k)) {
                this.add(`${key}.${k} is not a known key; use one of: ${known.join(", ")}`);
            }
        }
        return value as Obj;
    }

    int(key: string, value: unknown, range: { min: number; max: number }): number | undefined;
    int(key: string, value: unknown, range: { min: number; max: number; default: number }): number;
    int(key: string, value: unknown, range: { min: number; max: number; default?: number }): number | undefined {
        if (value === undefined || value === null) {
            return range.default;
        }
        const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
        if (typeof n !== "number" || !Number.isInteger(n) || n < range.min || n > range.max) {
            this.add(`${key} must be a whole number ${range.min}..${range.max} (got ${describe(value)})`);
            return range.default;
        }
        return n;
    }

    string(key: string, value: unknown, check?: { pattern: RegExp; hint: string }): string | undefined {
        if (value === undefined || value === null) {
            return undefined;
        }
        if (typeof value !== "string" || value.trim() === "") {
            this.add(`${key} must be a non-empty string (got ${describe(value)})`);
            return undefined;
        }
        if (check && !check.pattern.test(value)) {
            this.add(`${key} ${check.hint} (got ${describe(value)})`);
            return undefined;
        }
        return value;
    }

    oneOf<T extends string>(key: string, value: unknown, choices: readonly T[]): T | undefined {
        if (value === undefined || value === null) {
            return undefined;
        }
        if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
            this.add(`${key} must be one of ${choices.join(", ")} (got ${describe(value)})`);
            return undefined;
        }
        return value as T;
    }

    boolean(key: string, value: unknown): boolean | undefined {
        if (value === undefined || value === null) {
            return undefined;
        }
        if (value === true || value === "true") return true;
        if (value === false || value === "false") return false;
        this.add(`${key} must be true or false (got ${describe(value)})`);
        return undefined;
    }

    /** A list of strings, each checked; `undefined` when absent. */
    stringList(key: string, value: unknown, check?: { pattern: RegExp; hint: string }): string[] | undefined {
        if (value === undefined || value === null) {
            return undefined;
        }
        if (!Array.isArray(value)) {
            this.add(`${key} must be a list (got ${describe(value)})`);
            return undefined;
        }
        const out: string[] = [];
        value.forEach((item, i) => {
            const s = this.string(`${key}[${i}]`, item, check);
            if (s !== undefined) out.push(s);
        });
        return out.length === value.length ? out : undefined;
    }
}

/** A short, safe rendering of a config value for an error message. */
export function describe(value: unknown): string {
    if (value === undefined) return "nothing";
    if (typeof value === "string") return `'${value}'`;
    // JSON has no Infinity or NaN (YAML's .inf, .nan): JSON.stringify would call them null.
    if (typeof value === "number" && !Number.isFinite(value)) return String(value);
    const json = JSON.stringify(value);
    return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
