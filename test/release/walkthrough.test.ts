/**
 * The README's release walkthrough ("Releasing"), run as written by a shell on copies of the
 * committed stack files. Stand-ins on PATH play what this machine does not have: `pulumi` (the
 * stack output `images` of a deployed dev stack; `up` succeeds), `curl`, and `npm`, which runs
 * `npm run switchyard -- …` through the same launcher without npm's own start-up (`verify` needs
 * AWS; it is tested against moto in test/aws/verify.test.ts).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { buildContentHash } from "../../lib/images";
import { A, B, ROOT, read, spawnCli, stackDir } from "./fixtures";

/** The first ```sh block of the README's "Releasing" section. */
function walkthrough(): string {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("\n## Releasing\n"));
    const block = /```sh\n([\s\S]*?)```/.exec(section);
    assert.ok(block, "README: no sh block under ## Releasing");
    return block[1];
}

function fakeBin(dir: string): string {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const script = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    // dev after its first pulumi up: green was built as A; after `start`, blue is built as B.
    script(
        "pulumi",
        `echo "pulumi $*" >> "${dir}/log"
case "$*" in
  "stack output images --json --stack dev") echo '{"blue": "${B}", "green": "${A}"}' ;;
  "stack output testUrl --stack dev") echo "http://test.example" ;;
  "up --stack dev") ;;
  *) echo "unexpected: pulumi $*" >&2; exit 97 ;;
esac`,
    );
    script("curl", `echo "curl $*" >> "${dir}/log"`);
    script(
        "npm",
        `[ "$1 $2 $3" = "run switchyard --" ] || { echo "unexpected: npm $*" >&2; exit 97; }
shift 3
echo "switchyard $*" >> "${dir}/log"
[ "$1" = verify ] && exit 0
exec "${process.execPath}" "${path.join(ROOT, "cli", "launch.js")}" "$@"`,
    );
    return bin;
}

describe("the README's release walkthrough", function () {
    this.timeout(60_000);
    before(async () => assert.equal((await spawnCli(["--version"])).code, 0)); // compiles once

    it("runs as written on the committed Pulumi.dev.yaml and Pulumi.prod.yaml", () => {
        const dir = stackDir({
            dev: fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"),
            prod: fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8"),
        });
        fs.cpSync(path.join(ROOT, "app"), path.join(dir, "app"), { recursive: true }); // start --build ./app needs its Dockerfile
        const bin = fakeBin(dir);
        const r = spawnSync("sh", ["-e", "-c", walkthrough()], {
            cwd: dir,
            encoding: "utf8",
            env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` },
        });
        assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.stderr, "");
        const ran = fs
            .readFileSync(path.join(dir, "log"), "utf8")
            .split("\n")
            .filter((l) => l.startsWith("switchyard"));
        assert.deepEqual(ran, [
            "switchyard status --stack dev",
            `switchyard start --stack dev --build ./app --schema 3,4 --live-digest ${A}`,
            "switchyard canary --stack dev --percent 10",
            "switchyard verify --stack dev",
            `switchyard flip --stack dev --digest ${B}`,
            "switchyard rollback --stack dev",
            "switchyard flip --stack dev",
            "switchyard finish --stack dev",
            "switchyard promote --from dev --to prod",
        ]);
        const dev = parseDocument(read(dir, "dev")).toJS().config;
        // flip pinned blue's build and recorded what it was built from (issue 14 item 4).
        const hash = buildContentHash(path.join(dir, "app"));
        assert.deepEqual(dev["switchyard:slots"], {
            blue: { image: B, schema: [3, 4], builtFrom: { context: "./app", hash } },
            green: { image: A, idle: true },
        });
        assert.deepEqual(dev["switchyard:traffic"], { live: "blue" });
        const prod = parseDocument(read(dir, "prod")).toJS().config;
        assert.deepEqual(prod["switchyard:slots"].green, { image: B, schema: [3, 4] });
        assert.equal(prod["switchyard:traffic"].live, "blue");
        // start's edit made the committed "blue is empty" comment false; it is gone, the others stay.
        assert.doesNotMatch(read(dir, "dev"), /blue is empty/);
        assert.match(read(dir, "dev"), /# tasks per colour with traffic/);
    });
});
