/**
 * Loading, editing and writing `Pulumi.<stack>.yaml` with the yaml library's Document API, so
 * comments, key order and blank lines survive every edit. A file is written only when the edited
 * configuration passes `parseConfig` and differs from what is there.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Document, ToStringOptions, isCollection, isMap, isScalar, isSeq, parseDocument, visit } from "yaml";
import { RawConfig, parseConfig } from "../lib/config";
import { ConfigError } from "../lib/problems";
import { Edit } from "../lib/release";

export const PREFIX = "switchyard:";

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

export interface StackFile {
    readonly stack: string;
    readonly path: string;
    /** The file's bytes as read. */
    readonly text: string;
    readonly doc: Document;
    /** The `switchyard:*` values, keyed without the prefix. */
    readonly raw: RawConfig;
}

export function stackFilePath(dir: string, stack: string): string {
    return path.join(dir, `Pulumi.${stack}.yaml`);
}

export function loadStackFile(dir: string, stack: string): StackFile {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new CliError(`--stack ${stack} is not a stack name (letters, digits, - _ .)`, 2);
    const file = stackFilePath(dir, stack);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        throw new CliError(`no stack file ${file}; check --stack and --dir (the directory holding Pulumi.<stack>.yaml)`);
    }
    const doc = parseStackText(text);
    if (doc.errors.length > 0) {
        throw new CliError(`${file} is not valid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    }
    return { stack, path: file, text, doc, raw: readRaw(doc, file) };
}

/**
 * Parses a stack file. A comment on the line of a key whose value is a block map or list
 * (`switchyard:slots: # the builds`) is parsed by the yaml library as a comment before the
 * value's first entry and would move to the next line; it is kept on the key's line instead.
 */
export function parseStackText(text: string): Document {
    const doc = parseDocument(text);
    visit(doc, {
        Pair(_, pair) {
            const { key, value } = pair;
            if (!isScalar(key) || !key.range || !isCollection(value) || value.flow || !value.commentBefore) return;
            const lineEnd = text.indexOf("\n", key.range[1]);
            const sameLine = /^[ \t]*:[ \t]*#(.*)$/.exec(text.slice(key.range[1], lineEnd < 0 ? undefined : lineEnd));
            const [first, ...others] = value.commentBefore.split("\n");
            if (!sameLine || first.trim() !== sameLine[1].trim()) return;
            key.comment = first;
            value.commentBefore = others.length > 0 ? others.join("\n") : undefined;
        },
    });
    return doc;
}

/** The `switchyard:*` values under `config:`. */
export function readRaw(doc: Document, file = "the stack file"): RawConfig {
    const config = doc.get("config", true);
    if (config === undefined || (isScalar(config) && config.value === null)) return {};
    if (!isMap(config)) throw new CliError(`${file}: config must be a map of keys`);
    const js = (config.toJS(doc) ?? {}) as Record<string, unknown>;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(js)) {
        if (key.startsWith(PREFIX)) raw[key.slice(PREFIX.length)] = value;
    }
    return raw;
}

/** The line comment on a value, e.g. `# previous: <digest>` on a rolling slot's image. */
export function commentAt(doc: Document, editPath: readonly (string | number)[]): string | undefined {
    const node = doc.getIn(docPath(editPath), true);
    return isScalar(node) ? (node.comment ?? undefined) : undefined;
}

function docPath(editPath: readonly (string | number)[]): (string | number)[] {
    return ["config", `${PREFIX}${editPath[0]}`, ...editPath.slice(1)];
}

/** Applies edits to the document in place; untouched nodes keep their comments and layout. */
export function applyEditsToDocument(doc: Document, edits: readonly Edit[]): void {
    for (const edit of edits) {
        const full = docPath(edit.path);
        if (edit.op === "delete") {
            const parent = doc.getIn(full.slice(0, -1), true);
            if (isCollection(parent)) parent.delete(full[full.length - 1]);
            continue;
        }
        const parent = ensureMap(doc, full.slice(0, -1));
        const key = full[full.length - 1];
        const value = doc.createNode(edit.value, {
            flow: Array.isArray(edit.value) || isPlainObject(edit.value) ? flowFor(edit.value) : false,
        });
        const taken =
            edit.replaces !== undefined && !parent.has(key) ? parent.items.find((p) => keyOf(p.key) === edit.replaces) : undefined;
        if (taken) {
            // The new key takes the old key's place and the comments above it; the old value's own
            // line comment described that value (a build context, say) and goes with it.
            if (isScalar(taken.key)) taken.key.value = key;
            else taken.key = doc.createNode(key);
            const old = taken.value;
            if (isScalar(old) && isScalar(value)) {
                old.value = value.value;
                old.comment = undefined;
            } else taken.value = value;
        } else {
            if (edit.replaces !== undefined) parent.delete(edit.replaces);
            // YAMLMap.set keeps an existing scalar node (and its comment), changing only its value.
            parent.set(key, isScalar(value) ? value.value : value);
        }
        if (edit.note !== undefined) {
            const node = parent.get(key, true);
            if (isScalar(node)) {
                const kept = (node.comment ?? "").replace(/;?\s*previous: \S+/, "").trim();
                node.comment = ` ${kept ? `${kept}; ` : ""}${edit.note}`;
            }
        }
    }
}

function isPlainObject(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Short lists of scalars (schema versions) and small maps ({min, max}) are written in flow style. */
function flowFor(v: unknown): boolean {
    const values = Array.isArray(v) ? v : Object.values(v as object);
    return values.length <= 6 && values.every((x) => x === null || typeof x !== "object");
}

function keyOf(node: unknown): unknown {
    return isScalar(node) ? node.value : node;
}

/** The map at `docPath`, created (block style) where missing or null. */
function ensureMap(doc: Document, full: (string | number)[]): import("yaml").YAMLMap {
    let node: unknown = doc.contents;
    if (!isMap(node)) {
        if (node === null || (isScalar(node) && node.value === null)) {
            doc.contents = doc.createNode({}) as typeof doc.contents;
            node = doc.contents;
        } else {
            throw new CliError("the stack file's top level must be a map of keys");
        }
    }
    let map = node as import("yaml").YAMLMap;
    for (const key of full) {
        const child = map.get(key, true);
        if (isMap(child)) {
            map = child;
            continue;
        }
        if (child !== undefined && !(isScalar(child) && child.value === null)) {
            throw new CliError(`cannot edit ${full.join(".")}: ${String(key)} is ${isSeq(child) ? "a list" : "a value"}, not a map`);
        }
        const created = doc.createNode({}) as import("yaml").YAMLMap;
        map.set(key, created);
        const pair = map.items.find((p) => keyOf(p.key) === key);
        if (isScalar(child) && pair && isScalar(pair.key)) {
            // Keep the comment of a `key:` (null) line that is now filled in, on that line.
            if (child.comment) pair.key.comment = child.comment;
            if (child.commentBefore) created.commentBefore = child.commentBefore;
        }
        map = created;
    }
    return map;
}

/** How the file is re-emitted: its own indentation and sequence style; no padding inside [a, b]. */
export function toStringOptions(text: string): ToStringOptions {
    const indentMatch = /^[^\s#][^\n]*:[ \t]*(?:#.*)?\n(?:[ \t]*(?:#.*)?\n)*( +)\S/m.exec(text);
    const indent = indentMatch ? Math.min(Math.max(indentMatch[1].length, 1), 8) : 2;
    const seq = /^( *)[^\s#-][^\n]*:[ \t]*\n( *)- /m.exec(text);
    const indentSeq = seq ? seq[2].length > seq[1].length : true;
    return { indent, indentSeq, flowCollectionPadding: false, lineWidth: 0 };
}

export interface WriteResult {
    readonly changed: boolean;
    readonly text: string;
}

/**
 * Applies edits to a fresh copy of the file's document, validates the resulting file as it would
 * be written (parsed back, then parseConfig), and writes it only if it is valid and its
 * configuration changed. A refusal throws CliError and leaves the file untouched.
 */
export function writeEdits(file: StackFile, edits: readonly Edit[]): WriteResult {
    const text = renderEdits(file, edits);
    const after = parseDocument(text);
    const raw = readRaw(after, file.path);
    try {
        parseConfig(raw, file.stack);
    } catch (e) {
        if (e instanceof ConfigError)
            throw new CliError(`the change would make ${file.path} invalid, so nothing was written.\n${e.message}`);
        throw e;
    }
    if (text === file.text || sameJson(raw, file.raw)) {
        return { changed: false, text: file.text };
    }
    const tmp = `${file.path}.${process.pid}.tmp`;
    const mode = fs.statSync(file.path).mode;
    fs.writeFileSync(tmp, text, { mode });
    fs.renameSync(tmp, file.path);
    return { changed: true, text };
}

/** The file's text after the edits (nothing is written). */
export function renderEdits(file: StackFile, edits: readonly Edit[]): string {
    const options = toStringOptions(file.text);
    const doc = parseStackText(file.text);
    const unedited = doc.toString(options);
    applyEditsToDocument(doc, edits);
    return keepLayout(file.text, unedited, doc.toString(options));
}

/**
 * The yaml library re-emits a document in its own spacing (`value # comment`, one space). Where
 * the original differs only in such spacing (aligned comments), lines the edit did not touch are
 * copied from the original and a changed line keeps its comment's column, so the diff shows
 * exactly the edited lines. `unedited` is the library's rendering of the original document.
 */
export function keepLayout(original: string, unedited: string, edited: string): string {
    if (original === unedited) return edited;
    const o = original.split("\n");
    const a = unedited.split("\n");
    const b = edited.split("\n");
    // Which original line each line of the library's rendering stands for (equal but for spacing).
    const squash = (line: string) => line.replace(/\s+/g, "");
    const toOriginal = new Map<number, number>();
    for (const op of diffLines(a.map(squash), o.map(squash))) if (op.kind === "same") toOriginal.set(op.a, op.b);
    const out: string[] = [];
    let nextOriginal = 0;
    const catchUp = (upTo: number) => {
        // Original lines the library dropped (e.g. blank lines) come along with their neighbours.
        const mapped = new Set(toOriginal.values());
        for (; nextOriginal < upTo; nextOriginal++) if (!mapped.has(nextOriginal)) out.push(o[nextOriginal]);
        nextOriginal = Math.max(nextOriginal, upTo + 1);
    };
    let removed: number[] = [];
    const keyOfLine = (line: string) => /^\s*(?:- )?([^:#]+):/.exec(line)?.[1].trim();
    for (const op of diffLines(a, b)) {
        if (op.kind === "added") {
            const line = b[op.b];
            const was = removed.find((i) => toOriginal.has(i) && keyOfLine(a[i]) !== undefined && keyOfLine(a[i]) === keyOfLine(line));
            out.push(was === undefined ? line : alignComment(line, o[toOriginal.get(was)!]));
            continue;
        }
        const at = toOriginal.get(op.a);
        if (op.kind === "removed") {
            removed.push(op.a);
            if (at !== undefined) catchUp(at);
            continue;
        }
        removed = [];
        if (at !== undefined) {
            catchUp(at);
            out.push(o[at]);
        } else if (a[op.a].trim() !== "") {
            out.push(a[op.a]); // a line the library added: keep it unless it is only spacing
        }
    }
    catchUp(o.length);
    const result = out.join("\n");
    // Safety net: the result must mean exactly what the library's rendering means.
    const check = parseDocument(result);
    const sameData = check.errors.length === 0 && sameJson(check.toJS(), parseDocument(edited).toJS());
    const sameComments = commentsOf(result).join("\n") === commentsOf(edited).join("\n");
    return sameData && sameComments ? result : edited;
}

function commentsOf(text: string): string[] {
    return text
        .split("\n")
        .map((line) => {
            const at = commentStart(line);
            return at < 0 ? "" : line.slice(at + 1).trim();
        })
        .filter(Boolean);
}

/** Moves `line`'s comment to the column of `model`'s comment, when it fits. */
function alignComment(line: string, model: string): string {
    const at = commentStart(line);
    const column = commentStart(model);
    if (at < 0 || column < 0) return line;
    if (column - model.slice(0, column).trimEnd().length <= 1) return line; // not aligned: one space, as the library writes it
    const value = line.slice(0, at).trimEnd();
    return value.length < column ? value.padEnd(column) + line.slice(at) : line;
}

/** Index of the `#` that starts a line comment, outside quotes; -1 if none. */
function commentStart(line: string): number {
    let quote: string | undefined;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (quote) {
            if (c === quote) quote = undefined;
        } else if (c === "'" || c === '"') {
            quote = c;
        } else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) {
            return i;
        }
    }
    return -1;
}

type LineOp = { kind: "same"; a: number; b: number } | { kind: "removed"; a: number } | { kind: "added"; b: number };

/** A longest-common-subsequence line diff (stack files are small). */
function diffLines(a: readonly string[], b: readonly string[]): LineOp[] {
    const n = a.length;
    const m = b.length;
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
        for (let j = m - 1; j >= 0; j--) {
            lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
        }
    }
    const ops: LineOp[] = [];
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[i] === b[j]) ops.push({ kind: "same", a: i++, b: j++ });
        else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ kind: "removed", a: i++ });
        else ops.push({ kind: "added", b: j++ });
    }
    return ops;
}

function sameJson(a: unknown, b: unknown): boolean {
    return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object") {
        return Object.fromEntries(
            Object.keys(v)
                .sort()
                .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        );
    }
    return v;
}
