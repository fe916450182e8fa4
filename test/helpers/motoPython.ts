/**
 * Which Python runs moto's server for the tests, so that `npm ci && npm test` is the whole set-up
 * on a machine with Node and Python 3:
 *   1. `SWITCHYARD_MOTO_PYTHON` when set (mocha's global setup sets it for its workers);
 *   2. the project's `.venv-moto/` when its moto is the pinned version;
 *   3. `python3` on PATH when its moto is the pinned version;
 *   4. otherwise a new `.venv-moto/` from test/moto-requirements.txt (python3 -m venv, then pip).
 * When none works, one line names the missing piece: python3, its venv module, or a package index.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const MOTO_REQUIREMENTS = path.join(ROOT, "test", "moto-requirements.txt");
export const MOTO_VENV = path.join(ROOT, ".venv-moto");
export const MOTO_PYTHON_ENV = "SWITCHYARD_MOTO_PYTHON";

/** The one line `npm test` prints when no moto can be found or installed. */
export class MotoUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MotoUnavailable";
        this.stack = message; // mocha prints err.stack: keep it to the one line
    }
}

export interface MotoPythonOptions {
    /** @default process.env */
    readonly env?: NodeJS.ProcessEnv;
    /** @default MOTO_VENV */
    readonly venv?: string;
    /** @default MOTO_REQUIREMENTS */
    readonly requirements?: string;
    /** Progress lines (the first install takes a minute). @default stderr */
    readonly log?: (line: string) => void;
}

/** The moto version test/moto-requirements.txt pins (`moto[server]==X`). */
export function pinnedMotoVersion(requirementsText: string): string {
    const m = /^moto(?:\[[^\]]*\])?==(\S+)\s*$/m.exec(requirementsText);
    if (!m) throw new Error(`${path.relative(ROOT, MOTO_REQUIREMENTS)} must pin moto exactly (moto[server]==X.Y.Z)`);
    return m[1];
}

export function findMotoPython(options: MotoPythonOptions = {}): string {
    const env = options.env ?? process.env;
    const venv = options.venv ?? MOTO_VENV;
    const requirements = options.requirements ?? MOTO_REQUIREMENTS;
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const fromEnv = env[MOTO_PYTHON_ENV];
    if (fromEnv) return fromEnv;

    const pinned = pinnedMotoVersion(readFileSync(requirements, "utf8"));
    const venvPython = path.join(venv, "bin", "python");
    if (existsSync(venvPython) && motoVersion(venvPython, env) === pinned) return venvPython;
    const system = motoVersion("python3", env);
    if (system === pinned) return "python3";
    if (system === undefined) throw new MotoUnavailable(`moto: python3 not found on PATH; install Python 3 and run npm test again`);

    const found = system === "" ? "python3 has no moto" : `python3 has moto ${system}`;
    log(`moto: ${found}, not ${pinned}; installing ${path.basename(requirements)} into ${shown(venv)} (once)`);
    return provision(venv, requirements, pinned, env);
}

/** moto's version as `python` imports it; "" when it has none; undefined when `python` does not run. */
function motoVersion(python: string, env: NodeJS.ProcessEnv): string | undefined {
    const r = spawnSync(python, ["-c", "import moto, sys; sys.stdout.write(moto.__version__)"], { env, encoding: "utf8" });
    if (r.error) return undefined;
    return r.status === 0 ? r.stdout.trim() : "";
}

/**
 * A fresh venv beside the final one, renamed into place only once its moto imports: a second
 * `npm test` at the same time never sees a half-made .venv-moto. When python3 has pip 22.3 or
 * later, the venv is made without pip and python3's pip installs into it (`pip --python`, added in
 * pip 22.3: https://pip.pypa.io/en/stable/news/#v22-3), a second instead of ensurepip's several;
 * otherwise the venv gets its own pip (ensurepip) and installs with it.
 */
function provision(venv: string, requirements: string, pinned: string, env: NodeJS.ProcessEnv): string {
    const tmp = mkdtempSync(`${venv}.tmp-`);
    try {
        const hostPip = hasPipWithPythonOption(env);
        const made = spawnSync("python3", ["-m", "venv", ...(hostPip ? ["--without-pip"] : []), tmp], { env, encoding: "utf8" });
        if (made.status !== 0)
            throw new MotoUnavailable(
                `moto: python3 cannot create a virtual environment (${lastLine(made.stderr + made.stdout)}); install its venv module (Debian/Ubuntu: apt install python3-venv) and run npm test again`,
            );
        const python = path.join(tmp, "bin", "python");
        // Few retries: without an index pip would otherwise wait minutes before saying so.
        const install = ["install", "--disable-pip-version-check", "--retries", "1", "--timeout", "20", "-r", requirements];
        const pip = hostPip
            ? spawnSync("python3", ["-m", "pip", "--python", python, ...install], { env, encoding: "utf8" })
            : spawnSync(python, ["-m", "pip", ...install], { env, encoding: "utf8" });
        if (pip.status !== 0) {
            const said = pipError(pip.stderr, pip.stdout);
            const fix = `or run: python3 -m pip install -r ${shown(requirements)}`;
            throw new MotoUnavailable(
                NO_INDEX.test(pip.stderr + pip.stdout)
                    ? `moto: no package index reachable to install moto[server]==${pinned} (pip: ${said}); allow access to PyPI or set PIP_INDEX_URL to a mirror, ${fix}`
                    : `moto: pip could not install ${shown(requirements)} (pip: ${said}); fix that, ${fix}`,
            );
        }
        const installed = motoVersion(python, env);
        if (installed !== pinned)
            throw new MotoUnavailable(`moto: pip installed moto ${installed || "(none)"} into the venv, not ${pinned}`);
        rmSync(venv, { recursive: true, force: true });
        renameSync(tmp, venv);
        return path.join(venv, "bin", "python");
    } finally {
        rmSync(tmp, { recursive: true, force: true });
    }
}

/** Whether python3 has a pip that can install into another interpreter (`--python`, pip 22.3+). */
function hasPipWithPythonOption(env: NodeJS.ProcessEnv): boolean {
    const r = spawnSync("python3", ["-m", "pip", "--version"], { env, encoding: "utf8" });
    const m = /^pip (\d+)\.(\d+)/.exec(r.stdout ?? "");
    return r.status === 0 && m !== null && (Number(m[1]) > 22 || (Number(m[1]) === 22 && Number(m[2]) >= 3));
}

/** A path inside the project relative to it (as a person types it there), any other as it is. */
function shown(file: string): string {
    const rel = path.relative(ROOT, file);
    return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

/** pip's last ERROR line, else the last line it printed. */
function pipError(stderr: string, stdout: string): string {
    const errors = stderr.split("\n").filter((l) => l.startsWith("ERROR: "));
    return errors.length ? errors[errors.length - 1].slice("ERROR: ".length).trim() : lastLine(stderr + "\n" + stdout);
}

// What pip says when it cannot reach an index, or the index it reached lacks the pinned files.
const NO_INDEX =
    /No matching distribution found|Could not find a version that satisfies|NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Network is unreachable|ProxyError|ConnectTimeout|ReadTimeout/;

function lastLine(text: string): string {
    const lines = text
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    return lines[lines.length - 1] ?? "no output";
}
