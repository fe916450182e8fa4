/**
 * `verify` on a stack file that was edited but not applied yet (issue 15.14): AWS is compared with
 * the file and with its committed versions (cli/stackHistory.ts), so an edit not yet applied is
 * called that, and only a difference no version explains is blamed on a change outside Pulumi.
 * Against moto, seeded as pulumi up leaves the load balancer (test/aws/seed.ts).
 */
import { ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { runVerify } from "../../cli/verify";
import { useMoto } from "../helpers/moto";
import { DIGEST, removeStackFiles, seedStack, writeStackFile } from "./seed";

/** Blue live with a 10 % canary to green and one header route to green: what AWS has after seeding. */
const APPLIED = {
    service: { name: "web", desiredCount: 2 },
    slots: { blue: { image: DIGEST }, green: { image: DIGEST } },
    traffic: { live: "blue", canary: { percent: 10 }, routes: [{ color: "green", header: { name: "x-beta-user", values: ["alice"] } }] },
    testAccess: { cidrs: ["203.0.113.0/24"] },
};
const SEED = {
    stack: "dev",
    weights: { blue: 90, green: 10 },
    testTo: "green" as const,
    targets: { blue: { running: 2 }, green: { running: 2 } },
    rules: [{ color: "green" as const, priority: 1 }],
};
const CANARY_20 = { ...APPLIED, traffic: { ...APPLIED.traffic, canary: { percent: 20 } } };

const git = (dir: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=verify", "-c", "user.email=verify@example.com", ...args], { cwd: dir, encoding: "utf8" }).trim();

/** The stack file of `dir` rewritten with other switchyard:* keys. */
function rewrite(dir: string, switchyard: Record<string, unknown>): void {
    const config: Record<string, unknown> = { "aws:region": "eu-west-1" };
    for (const [k, v] of Object.entries(switchyard)) config[`switchyard:${k}`] = v;
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stringify({ config }));
}

/** A git repository whose one commit ("canary 10") is the file AWS has. */
function repository(): string {
    const dir = writeStackFile("dev", APPLIED);
    git(dir, "init", "-q");
    git(dir, "add", "Pulumi.dev.yaml");
    git(dir, "commit", "-q", "-m", "canary 10");
    return dir;
}

async function verify(dir: string): Promise<{ code: number; problems: string[] }> {
    const lines: string[] = [];
    const code = await runVerify({ stack: "dev", dir, out: (l) => lines.push(l), err: (l) => lines.push(l) });
    return { code, problems: lines.filter((l) => l.startsWith("✗ ")) };
}

describe("verify: an edit that is not applied yet", function () {
    this.timeout(20000);
    const moto = useMoto();
    after(removeStackFiles);

    it("an uncommitted edit: says AWS has what the last commit said, not that someone changed the listener", async () => {
        await seedStack(moto.endpoint, SEED);
        const dir = repository();
        const head = git(dir, "rev-parse", "--short", "HEAD");
        rewrite(dir, CANARY_20);
        assert.deepEqual(await verify(dir), {
            code: 1,
            problems: [
                "✗ production weights differ: AWS has blue 90, green 10, the stack file says blue 80, green 20: the stack file has changes " +
                    `that are not applied yet (AWS has what it said at the last commit (${head} "canary 10")); run pulumi up --stack dev to apply them`,
            ],
        });
    });

    it("a committed edit not applied yet (a merge the pipeline has not deployed): names the commit AWS matches", async () => {
        await seedStack(moto.endpoint, SEED);
        const dir = repository();
        const applied = git(dir, "rev-parse", "--short", "HEAD");
        rewrite(dir, { ...CANARY_20, traffic: { live: "green", previous: "blue" } });
        git(dir, "commit", "-q", "-am", "flip");
        const { code, problems } = await verify(dir);
        assert.equal(code, 1);
        const why = `the stack file has changes that are not applied yet (AWS has what it said at commit ${applied} "canary 10" (1 commit before the last)); run pulumi up --stack dev to apply them`;
        assert.deepEqual(problems, [
            `✗ production weights differ: AWS has blue 90, green 10, the stack file says blue 0, green 100: ${why}`,
            `✗ production listener rules differ: AWS has 1 rule(s) [green], the stack file has 0 route(s) []: ${why}`,
            "✗ the test listener forwards to green, but the candidate is blue (live is green): testers would not reach the candidate; run pulumi up to restore it",
        ]);
    });

    it("AWS matches no version of the file: a change outside Pulumi", async () => {
        const seeded = await seedStack(moto.endpoint, SEED);
        const dir = repository();
        await new ElasticLoadBalancingV2Client({}).send(
            new ModifyListenerCommand({
                ListenerArn: seeded.productionListenerArn,
                DefaultActions: [
                    {
                        Type: "forward",
                        ForwardConfig: {
                            TargetGroups: [
                                { TargetGroupArn: seeded.targetGroups.blue, Weight: 50 },
                                { TargetGroupArn: seeded.targetGroups.green, Weight: 50 },
                            ],
                        },
                    },
                ],
            }),
        );
        assert.deepEqual(await verify(dir), {
            code: 1,
            problems: [
                "✗ production weights drifted: AWS has blue 50, green 50, the stack file says blue 90, green 10: someone changed the listener " +
                    "outside Pulumi; run pulumi up to restore it, or update the stack file",
            ],
        });
    });

    it("no history (not in git): says it may be either, blaming no one", async () => {
        await seedStack(moto.endpoint, SEED);
        const dir = writeStackFile("dev", CANARY_20);
        assert.deepEqual(await verify(dir), {
            code: 1,
            problems: [
                "✗ production weights differ: AWS has blue 90, green 10, the stack file says blue 80, green 20: either the stack file was " +
                    "edited and not applied yet (pulumi up applies it) or someone changed the listener outside Pulumi (pulumi up restores it)",
            ],
        });
    });
});
