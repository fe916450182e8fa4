#!/usr/bin/env node
/**
 * Starts the release tool (`npm run switchyard -- …`) from JavaScript instead of compiling
 * TypeScript on every call. The sources (index.ts, components/, lib/, cli/) are compiled file by
 * file with esbuild into a tree that mirrors their layout, under node_modules/.cache/switchyard-cli/
 * <fingerprint>/, where the fingerprint covers every source's path, size and modification time.
 * An edited, added or removed .ts file therefore gives a new fingerprint and a rebuild (~0.1 s)
 * on the next run: the compiled tree can never be stale, and there is no manual build step.
 * Plain CommonJS on purpose: this file is what runs before anything is compiled.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
/** What the compiled tree holds: the program, its components and the tool (same layout as the sources). */
const SOURCES = ["index.ts", "program.ts", "components", "lib", "cli"];
const CACHE = path.join(ROOT, "node_modules", ".cache", "switchyard-cli");
/**
 * Packages the tool loads at every start, each bundled into one file at <tree>/node_modules/<name>
 * (found there before the real node_modules): loading yaml's ~80 files one by one costs more than
 * everything else the tool does for `status`. Everything else (the AWS SDK, Pulumi) is loaded from
 * node_modules as usual, and only by the commands that use it.
 */
const VENDORED = ["yaml", "commander"];
/** Bump when the build options below change, so older trees are not reused. */
const BUILD_FORMAT = "2";
/** Older trees are removed after this long (a long-running command may still load modules from one). */
const KEEP_OLD_TREES_MS = 60 * 60 * 1000;

/** Every .ts source (not .d.ts), relative to ROOT, with the stat line that goes into the fingerprint. */
function listSources() {
    const found = [];
    const visit = (rel) => {
        const stat = fs.statSync(path.join(ROOT, rel));
        if (stat.isDirectory()) {
            for (const name of fs.readdirSync(path.join(ROOT, rel)).sort()) visit(path.join(rel, name));
        } else if (rel.endsWith(".ts") && !rel.endsWith(".d.ts")) {
            found.push({ rel, line: `${rel}\0${stat.size}\0${stat.mtimeMs}` });
        }
    };
    for (const rel of SOURCES) if (fs.existsSync(path.join(ROOT, rel))) visit(rel);
    return found;
}

/** Changes when a dependency is installed or upgraded (a vendored package then is bundled again). */
function lockLine() {
    const stat = fs.statSync(path.join(ROOT, "package-lock.json"), { throwIfNoEntry: false });
    return stat ? `package-lock.json\0${stat.size}\0${stat.mtimeMs}` : "no lock file";
}

/** FNV-1a (64-bit) of the source list: cheap, and enough to tell two source states apart. */
function fingerprint(lines) {
    let hash = 0xcbf29ce484222325n;
    for (const ch of Buffer.from(lines.join("\n"), "utf8")) {
        hash ^= BigInt(ch);
        hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
    }
    return hash.toString(16).padStart(16, "0");
}

/**
 * The directory of a compiled tree matching the current sources, built if missing. Concurrent
 * runs each build into their own temporary directory and rename it into place, so no run ever
 * loads a half-written tree.
 */
function ensureBuilt() {
    const sources = listSources();
    const key = fingerprint([BUILD_FORMAT, lockLine(), ...sources.map((s) => s.line)]);
    const out = path.join(CACHE, key);
    if (fs.existsSync(out)) return out;
    const tmp = `${out}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    const esbuild = require("esbuild");
    esbuild.buildSync({
        entryPoints: sources.map((s) => path.join(ROOT, s.rel)),
        outdir: tmp,
        outbase: ROOT,
        format: "cjs",
        platform: "node",
        target: "node20",
        bundle: false,
        logLevel: "error",
    });
    for (const name of VENDORED) {
        esbuild.buildSync({
            entryPoints: [require.resolve(name, { paths: [ROOT] })],
            outfile: path.join(tmp, "node_modules", name, "index.js"),
            bundle: true,
            format: "cjs",
            platform: "node",
            target: "node20",
            logLevel: "error",
        });
        fs.writeFileSync(path.join(tmp, "node_modules", name, "package.json"), JSON.stringify({ name, main: "index.js" }));
    }
    // Read by `--version` (cli/main.ts looks for ../package.json, as it does in the source tree).
    fs.copyFileSync(path.join(ROOT, "package.json"), path.join(tmp, "package.json"));
    try {
        fs.renameSync(tmp, out);
    } catch (e) {
        fs.rmSync(tmp, { recursive: true, force: true });
        if (!fs.existsSync(out)) throw e; // not a concurrent run that finished first
    }
    removeOldTrees(key);
    return out;
}

function removeOldTrees(current) {
    for (const name of fs.readdirSync(CACHE)) {
        if (name === current) continue;
        const dir = path.join(CACHE, name);
        try {
            if (Date.now() - fs.statSync(dir).mtimeMs > KEEP_OLD_TREES_MS) fs.rmSync(dir, { recursive: true, force: true });
        } catch {
            // another run removed it first
        }
    }
}

module.exports = { ensureBuilt };

/**
 * EXIT.crashed in cli/exitCodes.ts (this file runs before anything is compiled, so the number is
 * repeated here): the tool itself failed, and what it did last is unknown. Never 1, which a
 * pipeline reads as "refused" or "rolled back cleanly"; Node's own code for an uncaught exception is 1.
 */
const EXIT_CRASHED = 4;

if (require.main === module) {
    // The last resort: an exception or rejection nothing caught (a callback, a timer, an event).
    process.on("uncaughtException", (e) => {
        process.stderr.write(`switchyard: unexpected error: ${(e && e.stack) || String(e)}\n`);
        process.exit(EXIT_CRASHED);
    });
    let tree;
    try {
        tree = ensureBuilt();
    } catch (e) {
        process.stderr.write(
            `switchyard: could not compile the tool into ${CACHE} (${e.message.trim().split("\n")[0]}); ` +
                `run it once as a user who may write there, e.g. npm run switchyard -- --version\n`,
        );
        process.exit(EXIT_CRASHED);
    }
    require(path.join(tree, "cli", "main.js")).runProcess();
}
