/**
 * `plan` shows, for a change, which builds call which and whether each pair is compatible
 * (issue 17 item 1, last sentence): the pairs of lib/coexistence.ts compatibilityPairs, before
 * and after, in text and --json. The change: api's v3 candidate gets a 10% canary while web
 * (requires api [2, 3]) is live, so web's live build now calls both of api's builds.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { main } from "../../cli/main";
import { servicesRaw } from "../helpers/servicesConfigs";
import { ConfigMap, ROOT } from "./helpers";

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: process.env });
    return { code, out, err };
}

const made: string[] = [];
after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function folder(base: ConfigMap, now: ConfigMap): { dir: string; baseFile: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-plan-calls-"));
    made.push(dir);
    fs.symlinkSync(path.join(ROOT, "app"), path.join(dir, "app"));
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stringify({ config: now }));
    const baseFile = path.join(dir, "base.yaml");
    fs.writeFileSync(baseFile, stringify({ config: base }));
    return { dir, baseFile };
}

/** web (live blue, requires api [2, 3]) and api (v2 live on blue, v3 on green); `canary`: api's canary percent. */
function stack(canary?: number): ConfigMap {
    const raw = servicesRaw();
    raw.services.web.slots.blue.requires = { api: [2, 3] };
    raw.services.api.slots.blue.provides = 2;
    raw.services.api.slots.green.provides = 3;
    raw.services.api.traffic = { live: "blue", ...(canary ? { canary: { percent: canary } } : {}) };
    return { "aws:region": "eu-west-1", ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [`switchyard:${k}`, v])) };
}

/** The helper's digests are all in the repository `web` (test/helpers/servicesConfigs.ts). */
const WEB = "web blue (web@sha256:aaaaaaaaaaaa; live)";
const API_BLUE = "api blue (web@sha256:bbbbbbbbbbbb; live)";
const API_GREEN = "api green (web@sha256:cccccccccccc; canary 10%)";

describe("plan: which builds call which, before and after (invariant 13)", function () {
    this.timeout(60000);

    it("text: a section listing each pair with the versions and its verdict", async () => {
        const { dir, baseFile } = folder(stack(), stack(10));
        const { out, err } = await run(["plan", "--stack", "dev", "--dir", dir, "--base-file", baseFile]);
        const at = out.indexOf(
            "Calls between services (invariant 13: every build with traffic may call every build with traffic of a service it requires):",
        );
        assert.ok(at >= 0, [...out, ...err].join("\n"));
        // The section ends the text.
        assert.deepEqual(out.slice(at + 1), [
            "  before:",
            `    ${WEB} → ${API_BLUE}: requires [2, 3], provides 2: compatible`,
            "  after:",
            `    ${WEB} → ${API_BLUE}: requires [2, 3], provides 2: compatible`,
            `    ${WEB} → ${API_GREEN}: requires [2, 3], provides 3: compatible`,
        ]);
    });

    it("--json: calls.before and calls.after", async () => {
        const { dir, baseFile } = folder(stack(), stack(10));
        const { out, err } = await run(["plan", "--stack", "dev", "--dir", dir, "--base-file", baseFile, "--json"]);
        const doc = JSON.parse(out.join("\n"));
        assert.deepEqual(
            doc.calls,
            {
                before: [{ caller: WEB, callee: API_BLUE, requires: "[2, 3]", provides: 2, compatible: true }],
                after: [
                    { caller: WEB, callee: API_BLUE, requires: "[2, 3]", provides: 2, compatible: true },
                    { caller: WEB, callee: API_GREEN, requires: "[2, 3]", provides: 3, compatible: true },
                ],
            },
            err.join("\n"),
        );
    });

    it("no section and no calls key when no build requires another service", async () => {
        const plain = (canary?: number) => {
            const s = stack(canary) as Record<string, any>;
            delete s["switchyard:services"].web.slots.blue.requires;
            return s;
        };
        const { dir, baseFile } = folder(plain(), plain(10));
        const text = await run(["plan", "--stack", "dev", "--dir", dir, "--base-file", baseFile]);
        assert.ok(!text.out.some((l) => l.startsWith("Calls between services")), text.out.join("\n"));
        const json = await run(["plan", "--stack", "dev", "--dir", dir, "--base-file", baseFile, "--json"]);
        assert.equal("calls" in JSON.parse(json.out.join("\n")), false);
    });
});
