/**
 * The part of GitHub Actions' expression language the workflows' `if:` conditions use, evaluated
 * against a job's state, so a test can ask "does the net run when the rollout step was cancelled?".
 * https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
 * - literals 'str' (a doubled '' is a quote), numbers, true/false/null; property access a.b.c
 *   (a missing property is null); ! == != && || and parentheses; `==` as in the docs' operators table;
 * - success(), failure(), cancelled(), always(), contains(a, b), fromJSON(s), hashFiles(literal paths).
 * Status functions, per the docs' "Status check functions": success() = no earlier step failed and
 * the job was not cancelled; failure() = an earlier step failed; cancelled() = the job was cancelled.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

export interface JobState {
    /** An earlier step of the job failed (a step that timed out fails). */
    readonly failed: boolean;
    /** The job (or its workflow run) was cancelled, or the job timed out. */
    readonly cancelled: boolean;
    /** The contexts: { steps: { rollout: { outcome, outputs: { status } } }, inputs, ... }. */
    readonly contexts: Record<string, unknown>;
}

type Value = string | number | boolean | null | Value[] | { [k: string]: Value } | unknown;

export function evaluate(expression: string, state: JobState): boolean {
    let result: unknown;
    evaluateWith(expression, state, (v) => (result = v));
    return truthy(result);
}

function evaluateWith(expression: string, state: JobState, done: (value: unknown) => void): void {
    const text = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
    const tokens = tokenize(text);
    let pos = 0;
    const peek = () => tokens[pos];
    const take = (want?: string) => {
        const t = tokens[pos++];
        if (want !== undefined && t !== want) throw new Error(`expected ${want}, got ${t} in: ${expression}`);
        return t;
    };

    const or = (): Value => {
        let v = and();
        while (peek() === "||") {
            take();
            const r = and();
            v = truthy(v) ? v : r;
        }
        return v;
    };
    const and = (): Value => {
        let v = cmp();
        while (peek() === "&&") {
            take();
            const r = cmp();
            v = truthy(v) ? r : v;
        }
        return v;
    };
    const cmp = (): Value => {
        const left = unary();
        if (peek() === "==" || peek() === "!=") {
            const op = take();
            const eq = looseEqual(left, unary());
            return op === "==" ? eq : !eq;
        }
        return left;
    };
    const unary = (): Value => (peek() === "!" ? (take(), !truthy(unary())) : primary());
    const primary = (): Value => {
        const t = take();
        if (t === "(") {
            const v = or();
            take(")");
            return v;
        }
        if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
        if (/^\d/.test(t)) return Number(t);
        if (t === "true" || t === "false") return t === "true";
        if (t === "null") return null;
        if (peek() === "(") {
            take("(");
            const args: Value[] = [];
            while (peek() !== ")") {
                args.push(or());
                if (peek() === ",") take(",");
            }
            take(")");
            return call(t, args, state);
        }
        let v: Value = state.contexts[t] ?? null;
        while (peek() === ".") {
            take(".");
            const key = take();
            v = v !== null && typeof v === "object" ? ((v as Record<string, Value>)[key] ?? null) : null;
        }
        return v;
    };
    const result = or();
    if (pos !== tokens.length) throw new Error(`unparsed rest ${tokens.slice(pos).join(" ")} in: ${expression}`);
    done(result);
}

function call(name: string, args: Value[], state: JobState): Value {
    switch (name) {
        case "always":
            return true;
        case "success":
            return !state.failed && !state.cancelled;
        case "failure":
            return state.failed;
        case "cancelled":
            return state.cancelled;
        case "contains":
            return Array.isArray(args[0])
                ? args[0].some((x) => looseEqual(x, args[1]))
                : String(args[0] ?? "")
                      .toLowerCase()
                      .includes(String(args[1] ?? "").toLowerCase());
        case "fromJSON":
            return JSON.parse(String(args[0])) as Value;
        case "hashFiles": {
            // Literal paths under github.workspace (no globs): the SHA-256 of each file's SHA-256, '' when none exists.
            const workspace = String((state.contexts.github as { workspace?: string } | undefined)?.workspace ?? ".");
            const files = args.map((a) => path.join(workspace, String(a))).filter((f) => existsSync(f));
            if (files.length === 0) return "";
            const all = createHash("sha256");
            for (const f of files) all.update(createHash("sha256").update(readFileSync(f)).digest());
            return all.digest("hex");
        }
        default:
            throw new Error(`unknown function ${name}()`);
    }
}

function tokenize(text: string): string[] {
    const re = /\s*('(?:[^']|'')*'|&&|\|\||==|!=|[!().,]|[A-Za-z_][\w-]*|\d+(?:\.\d+)?)/y;
    const out: string[] = [];
    let m: RegExpExecArray | null;
    while (re.lastIndex < text.length && (m = re.exec(text))) out.push(m[1]);
    if (text.slice(re.lastIndex).trim()) throw new Error(`cannot read: ${text.slice(re.lastIndex)}`);
    return out;
}

const truthy = (v: Value) => !(v === null || v === false || v === 0 || v === "" || Number.isNaN(v));

/** `==` as GitHub does it: strings ignore case; other mixed types compare as numbers (null and
 * '' are 0, true 1, a non-numeric string NaN, which equals nothing). */
function looseEqual(a: Value, b: Value): boolean {
    if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
    if (typeof a === typeof b && a !== null && b !== null) return a === b;
    const n = (v: Value) =>
        v === null ? 0 : typeof v === "boolean" ? Number(v) : typeof v === "string" ? (v.trim() === "" ? 0 : Number(v)) : Number(v);
    return n(a) === n(b);
}

/** The value of one expression (for `${{ }}` in run scripts, env and with). */
export function evaluateValue(expression: string, state: JobState): unknown {
    let result: unknown;
    evaluateWith(expression, state, (v) => (result = v));
    return result;
}

/** A string with every `${{ expression }}` replaced by its value ('' for null), as the runner does before a step runs. */
export function interpolate(text: string, state: JobState): string {
    return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => {
        const v = evaluateValue(expr, state);
        return v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    });
}
