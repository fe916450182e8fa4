/** `rollout` as registered in cli/main.ts: its flags, and refusals that need no AWS (exit 2, nothing changed). */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../cli/main";

const root = path.resolve(__dirname, "..", "..");

async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env });
    return { code, out, err };
}

describe("rollout command line (cli/main.ts)", () => {
    it("refuses --interval-seconds below 1 as a usage error", async () => {
        const r = await run(["rollout", "--stack", "dev", "--dir", root, "--interval-seconds", "0"]);
        assert.equal(r.code, 2);
        assert.equal(r.err[0], "error: option '--interval-seconds <n>' argument '0' is invalid. must be a whole number from 1.");
    });

    it("refuses the committed dev stack as it is (no candidate yet) with exit 2, file unchanged", async () => {
        const file = path.join(root, "Pulumi.dev.yaml");
        const before = fs.readFileSync(file, "utf8");
        const r = await run(["rollout", "--stack", "dev", "--dir", root, "--apply", "false"]);
        assert.equal(r.code, 2);
        assert.deepEqual(r.err, [
            "switchyard: rollout refused, nothing changed: no candidate: blue (the candidate slot) is empty; put a build there first: " +
                "npm run switchyard -- start --stack dev --image <repo>@sha256:<digest> (or --build <context>)",
        ]);
        assert.equal(fs.readFileSync(file, "utf8"), before);
    });

    it("with a build candidate, needs the digest its flip pins before anything moves: --digest or pulumi's stack output", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-rollout-cli-"));
        try {
            const file = path.join(dir, "Pulumi.dev.yaml");
            const text =
                "config:\n  aws:region: eu-west-1\n  switchyard:service:\n    name: web\n  switchyard:slots:\n" +
                `    blue:\n      image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${"a".repeat(64)}\n` +
                "    green:\n      build: ./app\n  switchyard:traffic:\n    live: blue\n";
            fs.writeFileSync(file, text);
            const noPulumi = { ...process.env, PATH: "/nonexistent" };
            const r = await run(["rollout", "--stack", "dev", "--dir", dir, "--apply", "true"], noPulumi);
            assert.equal(r.code, 2);
            assert.deepEqual(r.err, [
                "switchyard: rollout refused, nothing changed: green (the candidate) is a build, and its flip pins it to the digest " +
                    "pulumi up pushed, but pulumi is not on PATH to read it; pass --digest <repo>@sha256:<digest> " +
                    "(pulumi stack output images --json --stack dev shows it as green)",
            ]);
            const bad = await run(["rollout", "--stack", "dev", "--dir", dir, "--apply", "true", "--digest", "web:latest"], noPulumi);
            assert.equal(bad.code, 2);
            assert.deepEqual(bad.err, ["switchyard: rollout refused, nothing changed: --digest web:latest is not <repo>@sha256:<64 hex>"]);
            assert.equal(fs.readFileSync(file, "utf8"), text);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
