// `npm ci && npm test` is the whole set-up (issue 14, item 1): which Python runs moto, and the one
// line npm test prints when neither a pinned moto nor a way to install it exists. This machine has
// no PyPI, so installing is exercised with stand-ins: a python3 that cannot import moto
// (`python3 -S`: no site-packages), and a local wheel folder or a closed port as the index.
// pip's environment variables (PIP_NO_INDEX, PIP_FIND_LINKS, PIP_INDEX_URL, PIP_CONFIG_FILE=os.devnull):
// https://pip.pypa.io/en/stable/topics/configuration/#environment-variables
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { findMotoPython, MOTO_REQUIREMENTS, MotoUnavailable, pinnedMotoVersion } from "../helpers/motoPython";

const realPython = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
const PINNED = pinnedMotoVersion(readFileSync(MOTO_REQUIREMENTS, "utf8"));

describe("moto for npm test (test/helpers/motoPython.ts)", function () {
    this.timeout(120_000);
    let tmp: string;
    let venv: string;
    let requirements: string;
    const logged: string[] = [];
    const log = (line: string) => logged.push(line);

    beforeEach(() => {
        tmp = mkdtempSync(path.join(tmpdir(), "moto-python-"));
        venv = path.join(tmp, ".venv-moto");
        requirements = path.join(tmp, "requirements.txt");
        writeFileSync(requirements, `moto==${PINNED}\n`);
        logged.length = 0;
    });
    afterEach(() => rmSync(tmp, { recursive: true, force: true }));

    /** A folder for PATH holding `python3` as the given shell script. */
    function binWith(python3Script: string): string {
        const bin = path.join(tmp, "bin");
        mkdirSync(bin, { recursive: true });
        writeFileSync(path.join(bin, "python3"), `#!/bin/sh\n${python3Script}\n`);
        chmodSync(path.join(bin, "python3"), 0o755);
        return bin;
    }
    /** python3 that cannot import moto (the real interpreter without site-packages), with its pip (pip is tooling). */
    const withoutMoto = () => binWith(`if [ "$1" = -m ] && [ "$2" = pip ]; then exec ${realPython} "$@"; fi\nexec ${realPython} -S "$@"`);
    /** The same without pip: the venv then brings its own (ensurepip). */
    const withoutMotoOrPip = () =>
        binWith(`if [ "$1" = -m ] && [ "$2" = pip ]; then echo "No module named pip" >&2; exit 1; fi\nexec ${realPython} -S "$@"`);
    /** Only what pip gets from the test, none of this machine's pip configuration. */
    const pipEnv = (bin: string, pip: Record<string, string>): NodeJS.ProcessEnv => {
        const env: NodeJS.ProcessEnv = { PATH: `${bin}:/usr/bin:/bin`, HOME: tmp, PIP_CONFIG_FILE: "/dev/null", ...pip };
        return env;
    };
    /** A wheel of a package named moto at the pinned version, in a folder pip can use as its index. */
    function wheelhouse(): string {
        const dir = path.join(tmp, "wheels");
        mkdirSync(dir);
        const script = [
            "import sys, zipfile",
            "v = sys.argv[2]",
            "with zipfile.ZipFile(f'{sys.argv[1]}/moto-{v}-py3-none-any.whl', 'w') as z:",
            "    z.writestr('moto/__init__.py', f'__version__ = {v!r}\\n')",
            "    z.writestr(f'moto-{v}.dist-info/METADATA', f'Metadata-Version: 2.1\\nName: moto\\nVersion: {v}\\n')",
            "    z.writestr(f'moto-{v}.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')",
            "    z.writestr(f'moto-{v}.dist-info/RECORD', '')",
        ].join("\n");
        execFileSync(realPython, ["-c", script, dir, PINNED]);
        return dir;
    }
    const find = (env: NodeJS.ProcessEnv) => findMotoPython({ env, venv, requirements, log });
    const oneLineError = (env: NodeJS.ProcessEnv): string => {
        try {
            find(env);
        } catch (err) {
            assert.ok(err instanceof MotoUnavailable, String(err));
            assert.equal(err.stack, err.message, "mocha prints err.stack: it must be the one line");
            assert.ok(!err.message.includes("\n"), err.message);
            return err.message;
        }
        assert.fail("no error");
    };

    it("pins moto exactly in test/moto-requirements.txt, with its server extra", () => {
        assert.match(readFileSync(MOTO_REQUIREMENTS, "utf8"), /^moto\[server\]==5\.2\.1$/m);
        assert.equal(PINNED, "5.2.1");
    });

    it("uses SWITCHYARD_MOTO_PYTHON as given (mocha's global setup passes it to the workers)", () => {
        assert.equal(find({ SWITCHYARD_MOTO_PYTHON: "/opt/x/python" }), "/opt/x/python");
    });

    it("uses python3 when its moto is the pinned version, and installs nothing", () => {
        const bin = binWith(`exec ${realPython} "$@"`);
        assert.equal(find({ PATH: `${bin}:/usr/bin:/bin` }), "python3");
        assert.equal(existsSync(venv), false);
        assert.deepEqual(logged, []);
    });

    it("without python3 on PATH, says so in one line", () => {
        const empty = path.join(tmp, "empty");
        mkdirSync(empty);
        assert.equal(oneLineError({ PATH: empty }), "moto: python3 not found on PATH; install Python 3 and run npm test again");
    });

    it("without moto, installs the pinned one into .venv-moto and uses it from then on", () => {
        const env = pipEnv(withoutMoto(), { PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheelhouse() });
        const python = find(env);
        assert.equal(python, path.join(venv, "bin", "python"));
        assert.deepEqual(logged, [`moto: python3 has no moto, not ${PINNED}; installing requirements.txt into ${venv} (once)`]);
        const version = execFileSync(python, ["-c", "import moto; print(moto.__version__)"], { encoding: "utf8" }).trim();
        assert.equal(version, PINNED);
        assert.equal(existsSync(path.join(venv, "bin", "pip")), false, "python3's pip installed into a venv made without pip");
        assert.deepEqual(
            readdirSync(tmp).filter((f) => f.startsWith(".venv-moto")),
            [".venv-moto"],
            "no temporary venv left behind",
        );
        // The second run finds it: no pip, no log line, even with no index at all.
        logged.length = 0;
        assert.equal(find(pipEnv(withoutMoto(), { PIP_NO_INDEX: "1" })), python);
        assert.deepEqual(logged, []);
    });

    it("without pip in python3, gives the venv its own pip (ensurepip) and installs with it", () => {
        const python = find(pipEnv(withoutMotoOrPip(), { PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheelhouse() }));
        assert.equal(python, path.join(venv, "bin", "python"));
        assert.equal(execFileSync(python, ["-c", "import moto; print(moto.__version__)"], { encoding: "utf8" }).trim(), PINNED);
        assert.equal(existsSync(path.join(venv, "bin", "pip")), true, "the venv has its own pip");
    });

    it("installs when python3's moto is another version (the decision; the venv module fails here)", () => {
        const shadow = path.join(tmp, "shadow", "moto");
        mkdirSync(shadow, { recursive: true });
        writeFileSync(path.join(shadow, "__init__.py"), '__version__ = "5.1.0"\n');
        const bin = binWith(
            [
                `if [ "$1" = -m ] && [ "$2" = venv ]; then echo "venv: not here" >&2; exit 1; fi`,
                `PYTHONPATH=${path.dirname(shadow)} exec ${realPython} -S "$@"`,
            ].join("\n"),
        );
        assert.match(oneLineError(pipEnv(bin, {})), /^moto: python3 cannot create a virtual environment \(venv: not here\)/);
        assert.deepEqual(logged, [`moto: python3 has moto 5.1.0, not ${PINNED}; installing requirements.txt into ${venv} (once)`]);
    });

    it("without a reachable package index, says so in one line and leaves no venv", () => {
        // Port 9 (discard) on 127.0.0.1: nothing listens, the connection is refused at once.
        const env = pipEnv(withoutMoto(), { PIP_INDEX_URL: "http://127.0.0.1:9/simple" });
        const line = oneLineError(env);
        assert.match(
            line,
            new RegExp(
                `^moto: no package index reachable to install moto\\[server\\]==${PINNED.replace(/\./g, "\\.")} \\(pip: .*\\); ` +
                    "allow access to PyPI or set PIP_INDEX_URL to a mirror, or run: python3 -m pip install -r .*requirements\\.txt$",
            ),
        );
        assert.match(line, /No matching distribution found for moto==5\.2\.1/);
        assert.deepEqual(
            readdirSync(tmp).filter((f) => f.startsWith(".venv-moto")),
            [],
        );
    });

    it("without a working venv module, says so in one line", () => {
        // What Debian's python3 without python3-venv prints.
        const bin = binWith(
            [
                `if [ "$1" = -m ] && [ "$2" = venv ]; then`,
                `  echo "The virtual environment was not created successfully because ensurepip is not available." >&2; exit 1`,
                `fi`,
                `exec ${realPython} -S "$@"`,
            ].join("\n"),
        );
        assert.equal(
            oneLineError(pipEnv(bin, {})),
            "moto: python3 cannot create a virtual environment (The virtual environment was not created successfully because ensurepip is not available.); install its venv module (Debian/Ubuntu: apt install python3-venv) and run npm test again",
        );
    });

    it("a failing start of the whole run is that one line under mocha's header", () => {
        // mocha prints "[mocha] global setup failed:" and err.stack (node_modules/mocha/lib/mocha.cjs, reportFixtureError).
        const empty = path.join(tmp, "empty");
        mkdirSync(empty);
        const spec = path.join(tmp, "nothing.test.js");
        writeFileSync(spec, "it('never runs', () => {});\n");
        const root = path.resolve(__dirname, "..", "..");
        const r = spawnSync(process.execPath, [path.join(root, "node_modules", "mocha", "bin", "mocha.js"), spec], {
            cwd: root,
            env: { ...process.env, PATH: empty, SWITCHYARD_MOTO_PYTHON: "" },
            encoding: "utf8",
        });
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.equal(
            r.stderr.trim(),
            "[mocha] global setup failed:\nmoto: python3 not found on PATH; install Python 3 and run npm test again",
        );
    });
});
