/**
 * Loading, editing and writing `Pulumi.<stack>.yaml` with the yaml library's Document API, so
 * comments, key order and blank lines survive every edit. A file is written only when the whole
 * edited file passes `parseStack` (either form, every service) and differs from what is there.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Document, ToStringOptions, isCollection, isMap, isScalar, isSeq, parseDocument, visit } from "yaml";
import { RawConfig, parseStack } from "../lib/config";
import { CoexistenceError, ConfigError } from "../lib/problems";
import { EXIT } from "./exitCodes";
import { Edit, listed } from "../lib/release";
import { CliError } from "./errors";
import { sameJson } from "../lib/json";

export const PREFIX = "switchyard:";

export { CliError };

export interface StackFile {
    readonly stack: string;
    readonly path: string;
    /** The file's text as read, without a byte-order mark and with LF line ends (see `encoding`). */
    readonly text: string;
    /** The file's bytes as read (a write first checks that the file still holds exactly these). */
    readonly bytes: Buffer;
    /** What a write puts back: the byte-order mark and the line ends the file had. */
    readonly encoding: TextEncoding;
    readonly doc: Document;
    /** The `switchyard:*` values, keyed without the prefix. */
    readonly raw: RawConfig;
}

export function stackFilePath(dir: string, stack: string): string {
    return path.join(dir, `Pulumi.${stack}.yaml`);
}

export interface TextEncoding {
    readonly bom: boolean;
    readonly eol: "\n" | "\r\n";
}

/** `flag`: the option that named the stack (`--from`, `--to` for promote), so messages name it. */
export function loadStackFile(dir: string, stack: string, flag = "--stack"): StackFile {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new CliError(`${flag} ${stack} is not a stack name (letters, digits, - _ .)`, 2);
    const file = stackFilePath(dir, stack);
    const bytes = readStackBytes(file, flag);
    const { text, encoding } = decodeText(bytes);
    const doc = parseStackText(text);
    if (doc.errors.length > 0) {
        throw new CliError(`${file} is not valid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    }
    return { stack, path: file, text, bytes, encoding, raw: readRaw(doc, file), doc };
}

/** The file's bytes, or a CliError saying what is there instead of a readable stack file. */
function readStackBytes(file: string, flag: string): Buffer {
    const hint = `check ${flag} and --dir (the directory holding Pulumi.<stack>.yaml)`;
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch (e) {
        if (errorCode(e) !== "ENOENT") throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
        const link = fs.lstatSync(file, { throwIfNoEntry: false });
        if (link?.isSymbolicLink())
            throw new CliError(`${file} is a symbolic link to ${fs.readlinkSync(file)}, which does not exist; ${hint}`);
        throw new CliError(`no stack file ${file}; ${hint}`);
    }
    if (stat.isDirectory()) throw new CliError(`${file} is a directory, not a stack file; ${hint}`);
    if (!stat.isFile()) throw new CliError(`${file} is not a regular file (a device, socket or pipe), so it is not a stack file; ${hint}`);
    try {
        return fs.readFileSync(file);
    } catch (e) {
        if (errorCode(e) === "EACCES" || errorCode(e) === "EPERM") {
            throw new CliError(
                `cannot read ${file}: permission denied (mode ${modeText(stat.mode)}, owner uid ${stat.uid}); ` +
                    `run as a user who may read it, or make it readable (chmod u+r ${file})`,
            );
        }
        throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
    }
}

export function errorCode(e: unknown): string | undefined {
    return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** `444` for a read-only file. */
export function modeText(mode: number): string {
    return (mode & 0o7777).toString(8).padStart(3, "0");
}

/** The text without its byte-order mark and with LF line ends; `encoding` says how to put them back. */
export function decodeText(bytes: Buffer): { text: string; encoding: TextEncoding } {
    let text = bytes.toString("utf8");
    const bom = text.startsWith("\uFEFF");
    if (bom) text = text.slice(1);
    // The first line end decides (a file with mixed ends is written back with that one throughout).
    const eol = /\r?\n/.exec(text)?.[0] === "\r\n" ? "\r\n" : "\n";
    return { text: text.replace(/\r\n/g, "\n"), encoding: { bom, eol } };
}

/** The bytes of `text` (LF line ends) in the file's own encoding. */
export function encodeText(text: string, encoding: TextEncoding): Buffer {
    return Buffer.from((encoding.bom ? "\uFEFF" : "") + (encoding.eol === "\n" ? text : text.replace(/\n/g, "\r\n")), "utf8");
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
        if (edit.obsoleteComment) dropCommentLines(doc, edit.obsoleteComment);
        if (edit.note !== undefined) {
            const node = parent.get(key, true);
            if (isScalar(node)) {
                const kept = (node.comment ?? "").replace(/;?\s*previous: \S+/, "").trim();
                node.comment = ` ${kept ? `${kept}; ` : ""}${edit.note}`;
            }
        }
    }
}

/** Removes every comment line matching `pattern`, wherever it is in the document. */
function dropCommentLines(doc: Document, pattern: RegExp): void {
    const keep = (comment: string | null | undefined) => {
        if (!comment) return comment;
        const lines = comment.split("\n").filter((line) => !pattern.test(line));
        return lines.length > 0 ? lines.join("\n") : undefined;
    };
    doc.commentBefore = keep(doc.commentBefore) ?? null;
    doc.comment = keep(doc.comment) ?? null;
    visit(doc, (_, node) => {
        if (isScalar(node) || isCollection(node)) {
            node.commentBefore = keep(node.commentBefore);
            node.comment = keep(node.comment);
        }
    });
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

/**
 * The file's text after the edits, validated as it would be written (parsed back, then
 * parseStack: the whole file, so a service's edit can never break another's), or a CliError. `changed` is false when the configuration would stay the same (the
 * file is then not rewritten).
 */
export function renderValidEdits(
    file: StackFile,
    edits: readonly Edit[],
    /** The exit code of an invalid result (a train's edit: 2, cli/transaction.ts editTrain). @default 1 */
    invalidExit = 1,
): { changed: boolean; text: string } {
    const text = renderEdits(file, edits);
    const raw = readRaw(parseDocument(text), file.path);
    try {
        parseStack(raw, file.stack);
    } catch (e) {
        // The co-existence guard's refusal is exit 2 whatever the edit (issue 17): the file is valid, the step is not.
        if (e instanceof ConfigError)
            throw new CliError(
                `the change would make ${file.path} invalid, so nothing was written.\n${listed(e)}`,
                e instanceof CoexistenceError ? EXIT.usage : invalidExit,
            );
        throw e;
    }
    return text === file.text || sameJson(raw, file.raw) ? { changed: false, text: file.text } : { changed: true, text };
}

/** The file's text after the edits (nothing is written). */
export function renderEdits(file: Pick<StackFile, "text">, edits: readonly Edit[]): string {
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
