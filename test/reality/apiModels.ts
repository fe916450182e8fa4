/**
 * AWS's published API models as a test oracle. botocore (installed with moto) ships one
 * `data/<service>/<version>/service-2.json(.gz)` per service: every operation's input shape, and
 * for every field its type, length limits, pattern, enum and range, plus documentation text that
 * states further limits. `validateRequest` checks one API request against its operation's input
 * shape; test/reality/apiRequests.ts says which requests each registered resource becomes.
 *
 * Read straight from the files (fs, zlib, JSON.parse): no npm dependency. The botocore folder is
 * asked of Python once per process; without Python or botocore the tests fail with one line.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";

export interface Shape {
    readonly type: string;
    readonly members?: Record<string, { readonly shape: string; readonly documentation?: string }>;
    readonly required?: readonly string[];
    readonly member?: { readonly shape: string };
    readonly key?: { readonly shape: string };
    readonly value?: { readonly shape: string };
    readonly min?: number;
    readonly max?: number;
    readonly pattern?: string;
    readonly enum?: readonly string[];
    readonly documentation?: string;
}

export interface ApiModel {
    readonly service: string;
    /** The file it was read from, for messages. */
    readonly file: string;
    readonly operations: Record<string, { readonly input?: { readonly shape: string } }>;
    readonly shapes: Record<string, Shape>;
}

/** The one line a missing botocore gives (mocha prints `stack`: keep it to that line). */
export class BotocoreUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BotocoreUnavailable";
        this.stack = message;
    }
}

const ROOT = path.resolve(__dirname, "..", "..");

/** Pythons that may have botocore: the one the moto tests use, the project's moto venv, python3. */
function candidatePythons(): string[] {
    return [process.env.SWITCHYARD_MOTO_PYTHON, path.join(ROOT, ".venv-moto", "bin", "python"), "python3"].filter(
        (p): p is string => p !== undefined && p !== "" && (!p.includes(path.sep) || existsSync(p)),
    );
}

let dataDir: string | undefined;

/** botocore's `data` folder, asked of Python once per process. */
export function botocoreDataDir(): string {
    if (dataDir) return dataDir;
    for (const python of candidatePythons()) {
        const r = spawnSync(python, ["-c", "import botocore, os; print(os.path.dirname(botocore.__file__))"], { encoding: "utf8" });
        if (r.status === 0 && r.stdout.trim() !== "") return (dataDir = path.join(r.stdout.trim(), "data"));
    }
    throw new BotocoreUnavailable(
        `AWS API models: no Python with botocore found (tried ${candidatePythons().join(", ")}); ` +
            `install Python 3 and moto (pip install -r test/moto-requirements.txt), which brings botocore`,
    );
}

const models = new Map<string, ApiModel>();

/** The newest API version botocore ships for `service` (e.g. "elbv2", "ecs"). */
export function apiModel(service: string): ApiModel {
    const cached = models.get(service);
    if (cached) return cached;
    const dir = path.join(botocoreDataDir(), service);
    if (!existsSync(dir)) throw new BotocoreUnavailable(`AWS API models: botocore has no model for ${service} in ${dir}`);
    const version = readdirSync(dir).sort().pop()!;
    const plain = path.join(dir, version, "service-2.json");
    const file = existsSync(plain) ? plain : `${plain}.gz`;
    const bytes = readFileSync(file);
    const json = JSON.parse((file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8"));
    const model: ApiModel = { service, file, operations: json.operations, shapes: json.shapes };
    models.set(service, model);
    return model;
}

/** An operation's input shape name; throws for an operation the model does not have. */
export function inputShape(model: ApiModel, operation: string): string {
    const shape = model.operations[operation]?.input?.shape;
    if (!shape) throw new Error(`${model.service} has no operation ${operation} (${model.file})`);
    return shape;
}

/** The documentation of a member of a structure shape, as plain text (tags removed, entities decoded). */
export function memberDocs(model: ApiModel, structure: string, member: string): string {
    const m = model.shapes[structure]?.members?.[member];
    if (!m) throw new Error(`${model.service} has no member ${structure}.${member}`);
    return plainText(m.documentation ?? model.shapes[m.shape]?.documentation ?? "");
}

export function plainText(html: string): string {
    return html
        .replace(/<[^>]+>/g, " ")
        .replace(/&amp;/g, "&")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/\s+/g, " ")
        .trim();
}

/**
 * A model pattern as a JavaScript RegExp over the WHOLE value. The models' patterns are Java
 * regular expressions and AWS matches them against the whole value: IAM's RoleName pattern
 * `[\w+=,.@-]+` "allows ... upper and lowercase alphanumeric characters with no spaces"
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html), though it would
 * match part of a name with a space. Java's `\p{Print}` (printable ASCII) has no JS equivalent.
 */
const compiled = new Map<string, RegExp>();
export function modelPattern(pattern: string): RegExp {
    let re = compiled.get(pattern);
    if (re) return re;
    const source = `^(?:${pattern.replace(/\\p\{Print\}/g, "[\\x20-\\x7E]")})$`;
    for (const flags of ["u", ""]) {
        try {
            re = new RegExp(source, flags);
            break;
        } catch {
            // Some patterns use escapes that only the non-Unicode mode allows (`\_`, `\-` outside a class).
        }
    }
    if (!re) throw new Error(`the model pattern ${pattern} does not compile as a JavaScript RegExp`);
    compiled.set(pattern, re);
    return re;
}

/** One way a request breaks its model: where (`CreateRule.Conditions[0].Field`) and what. */
export interface Violation {
    readonly at: string;
    readonly problem: string;
}

/** Checks `input` against `operation`'s input shape: members, types, lengths, patterns, enums, ranges. */
export function validateRequest(model: ApiModel, operation: string, input: unknown): Violation[] {
    const out: Violation[] = [];
    validate(model, inputShape(model, operation), input, operation, out);
    return out;
}

function validate(model: ApiModel, shapeName: string, value: unknown, at: string, out: Violation[]): void {
    const shape = model.shapes[shapeName];
    const add = (problem: string): void => void out.push({ at, problem });
    if (!shape) return add(`the model has no shape ${shapeName}`);
    switch (shape.type) {
        case "structure": {
            if (typeof value !== "object" || value === null || Array.isArray(value)) return add(`must be a structure (${shapeName})`);
            const members = shape.members ?? {};
            for (const required of shape.required ?? []) {
                if ((value as Record<string, unknown>)[required] === undefined) add(`misses required member ${required}`);
            }
            for (const [k, v] of Object.entries(value)) {
                if (v === undefined) continue;
                if (!members[k]) add(`has ${k}, which ${shapeName} does not have (members: ${Object.keys(members).join(", ")})`);
                else validate(model, members[k].shape, v, `${at}.${k}`, out);
            }
            return;
        }
        case "list": {
            if (!Array.isArray(value)) return add(`must be a list (${shapeName})`);
            range(value.length, shape, "items", add);
            value.forEach((item, i) => validate(model, shape.member!.shape, item, `${at}[${i}]`, out));
            return;
        }
        case "map": {
            if (typeof value !== "object" || value === null || Array.isArray(value)) return add(`must be a map (${shapeName})`);
            const entries = Object.entries(value);
            range(entries.length, shape, "entries", add);
            for (const [k, v] of entries) {
                validate(model, shape.key!.shape, k, `${at}{key ${k}}`, out);
                validate(model, shape.value!.shape, v, `${at}.${k}`, out);
            }
            return;
        }
        case "string": {
            if (typeof value !== "string") return add(`must be a string (got ${JSON.stringify(value)})`);
            range([...value].length, shape, "characters", add);
            if (shape.enum && !shape.enum.includes(value)) add(`'${value}' is not one of ${shape.enum.join(", ")}`);
            if (shape.pattern !== undefined && !modelPattern(shape.pattern).test(value)) {
                add(`'${value}' does not match ${shape.pattern} (${shapeName})`);
            }
            return;
        }
        case "integer":
        case "long":
            if (typeof value !== "number" || !Number.isInteger(value)) return add(`must be a whole number (got ${JSON.stringify(value)})`);
            return range(value, shape, "", add);
        case "double":
        case "float":
            if (typeof value !== "number" || !Number.isFinite(value)) return add(`must be a number (got ${JSON.stringify(value)})`);
            return range(value, shape, "", add);
        case "boolean":
            if (typeof value !== "boolean") add(`must be true or false (got ${JSON.stringify(value)})`);
            return;
        default:
            return add(`has a ${shape.type} (${shapeName}), which these tests do not check; add it to test/reality/apiModels.ts`);
    }
}

function range(n: number, shape: Shape, unit: string, add: (problem: string) => void): void {
    const of = unit ? ` ${unit}` : "";
    if (shape.min !== undefined && n < shape.min) add(`has ${n}${of}, at least ${shape.min} allowed`);
    if (shape.max !== undefined && n > shape.max) add(`has ${n}${of}, at most ${shape.max} allowed`);
}
