/** `rollout` as registered in cli/main.ts: its flags, and refusals that need no AWS (exit 2, nothing changed). */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { main } from "../../cli/main";

const root = path.resolve(__dirname, "..", "..");

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: process.env });
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
});
