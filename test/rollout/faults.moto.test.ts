/**
 * rollout's fault paths against moto's server (issue 15): a frozen AWS endpoint, a rollback whose
 * apply fails and the `sync` that then applies it, and two rollouts of one stack started 1 s
 * apart. Each step is applied with `--apply` by a script that records the stack file it applies
 * (the name carries SWITCHYARD_STEP) and fails the step named in FAIL_STEP.
 *
 * moto computes no percentiles (GetMetricData with `p99` is an HTTP 500, see
 * rollout.moto.test.ts); the CloudWatch client here asks moto for `Maximum` in its place. No
 * metrics are written, so rates are never judged and a bake passes on its alarms.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CloudWatchClient, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { parse, stringify } from "yaml";
import { RolloutDeps, RolloutOptions, rolloutCommand } from "../../cli/commands/rollout";
import { main } from "../../cli/main";
import { AwsTimeouts, cloudwatchClient } from "../../lib/aws/clients";
import { Clock } from "../../lib/rollout/loop";
import { DIGEST, seedStack } from "../aws/seed";
import { frozenEndpoint } from "../helpers/frozen";
import { useMoto } from "../helpers/moto";
import { askMaximumForP99, putServiceAlarms } from "../helpers/cloudwatchStandIns";

const NEW = DIGEST.replace(/a{64}$/, "b".repeat(64));

const RECORDER = `#!/bin/sh
# Records each stack file it applies; fails the step named in FAIL_STEP; sleeps APPLY_SECONDS first.
sleep "\${APPLY_SECONDS:-0}"
n=$(ls "$LOG_DIR" | wc -l | tr -d ' ')
cp "Pulumi.$SWITCHYARD_STACK.yaml" "$LOG_DIR/$(printf %02d "$n") $SWITCHYARD_STEP.yaml"
[ "$SWITCHYARD_STEP" != "\${FAIL_STEP:-}" ]
`;

const STEPS = {
    steps: [{ canary: 10, bakeSeconds: 60 }, { flip: true, bakeSeconds: 0 }, { finish: true }],
    analysis: { intervalSeconds: 30, minRequests: 50 },
};

/** A clock whose sleeps pass at once (the bakes take no real time; AWS calls do). */
function instantClock(): Clock {
    let t = Math.ceil(Date.now() / 60_000) * 60_000;
    return {
        now: () => t,
        sleep: async (ms, signal) => {
            if (!signal.aborted) t += ms;
        },
    };
}

const withoutPercentiles = (client: CloudWatchClient) => askMaximumForP99(client);

describe("rollout fault paths against moto (issue 15)", function () {
    this.timeout(40000);
    const moto = useMoto();
    const tmp: string[] = [];
    after(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    interface Project {
        dir: string;
        logDir: string;
        out: string[];
        err: string[];
    }

    async function project(): Promise<Project> {
        await seedStack(moto.endpoint, { stack: "dev", weights: { blue: 100, green: 0 }, testTo: "green" });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-faults-"));
        tmp.push(dir);
        const logDir = path.join(dir, "applied");
        fs.mkdirSync(logDir);
        fs.writeFileSync(
            path.join(dir, "Pulumi.dev.yaml"),
            stringify({
                config: {
                    "aws:region": "eu-west-1",
                    "switchyard:service": { name: "web" },
                    "switchyard:slots": { blue: { image: DIGEST }, green: { image: NEW } },
                    "switchyard:traffic": { live: "blue" },
                    "switchyard:rollout": STEPS,
                },
            }),
        );
        fs.writeFileSync(path.join(dir, "record.sh"), RECORDER, { mode: 0o755 });
        return { dir, logDir, out: [], err: [] };
    }

    const rollout = (
        p: Project,
        deps: RolloutDeps,
        env: NodeJS.ProcessEnv = {},
        extra: Partial<RolloutOptions> = {},
        log: { out: string[]; err: string[] } = p,
    ) =>
        rolloutCommand(
            { stack: "dev", dir: p.dir, apply: "./record.sh", ...extra },
            { out: (l) => log.out.push(l), err: (l) => log.err.push(l), env: { ...process.env, LOG_DIR: p.logDir, ...env } },
            { clock: instantClock(), ...deps },
        );
    const applied = (p: Project) => fs.readdirSync(p.logDir).sort();
    const trafficIn = (p: Project, file: string) => parse(fs.readFileSync(path.join(p.logDir, file), "utf8")).config["switchyard:traffic"];

    it("a frozen AWS endpoint: three polls that time out, then the rollback, within three call timeouts (plus slack)", async () => {
        const p = await project();
        const proxy = await frozenEndpoint({ host: "127.0.0.1", port: Number(new URL(moto.endpoint).port) });
        const saved = process.env.AWS_ENDPOINT_URL;
        process.env.AWS_ENDPOINT_URL = proxy.endpoint;
        // Short enough to keep the test brief, long enough that a loaded 2-core machine (parallel
        // mocha workers) still answers every call before the freeze within it.
        const timeouts: AwsTimeouts = { connectMs: 1000, attemptMs: 1500, callMs: 2000 };
        // Frozen when the canary's apply runs: everything before it (finding the ALB, the topics, the lock) answered.
        fs.writeFileSync(path.join(p.dir, "freeze.sh"), `#!/bin/sh\n./record.sh && touch frozen\n`, { mode: 0o755 });
        const watcher = setInterval(() => {
            if (fs.existsSync(path.join(p.dir, "frozen"))) proxy.freeze();
        }, 5);
        try {
            const code = await rollout(
                p,
                { cloudwatch: withoutPercentiles(cloudwatchClient("eu-west-1", timeouts)), timeouts },
                {},
                { apply: "./freeze.sh" },
            );
            assert.equal(code, 1, [...p.out, ...p.err].join("\n"));
            assert.deepEqual(applied(p), ["00 canary 10.yaml", "01 rollback.yaml"]);
            assert.deepEqual(trafficIn(p, "01 rollback.yaml"), { live: "blue" });
            assert.match(
                p.err[0],
                /^rolled back at step 1\/3 \(canary 10\): green cannot be watched: 3 polls in a row failed to read CloudWatch \(cloudwatch:(GetMetricData|DescribeAlarms) failed \(CallTimeout\): no answer within 2 s \(the endpoint is unreachable or hung\)\)$/,
            );
            const pollLines = p.out.filter((l) => / could not read the analysis \(\d\/3\)/.test(l));
            assert.equal(pollLines.length, 3, p.out.join("\n"));
            // The lock release meets the frozen endpoint too: reported, and bounded by the call timeout.
            assert.match(
                p.err.at(-1)!,
                /^! could not release the rollout lock switchyard-locks\/rollout\/dev\/web \(dynamodb:DeleteItem failed \(CallTimeout\)/,
            );
            const frozenAt = proxy.firstSwallowedAt!;
            const rolledBackAt = fs.statSync(path.join(p.logDir, "01 rollback.yaml")).mtimeMs;
            const ms = rolledBackAt - frozenAt;
            assert.ok(ms >= 3 * 2000 - 50 && ms <= 3 * 2000 + 4000, `frozen -> rollback applied: ${ms} ms`);
            console.log(`      frozen endpoint -> rollback applied: ${Math.round(ms)} ms (call timeout 2 s, 3 polls)`);
        } finally {
            clearInterval(watcher);
            process.env.AWS_ENDPOINT_URL = saved;
            await proxy.close();
        }
    });

    it("a rollback whose apply fails exits 3 (a person must act) saying what the file says and AWS was last told; sync then applies it", async () => {
        const p = await project();
        const cw = new CloudWatchClient({});
        await putServiceAlarms(cw, "dev", ["web"], ["green"]);
        await cw.send(
            new SetAlarmStateCommand({ AlarmName: "switchyard-dev-web-green-5xx", StateValue: "ALARM", StateReason: "Threshold Crossed" }),
        );
        const code = await rollout(p, { cloudwatch: withoutPercentiles(new CloudWatchClient({})) }, { FAIL_STEP: "rollback" });
        assert.equal(code, 3, [...p.out, ...p.err].join("\n"));
        assert.deepEqual(applied(p), ["00 canary 10.yaml", "01 rollback.yaml"]);
        assert.deepEqual(p.err, [
            "switchyard: rollout: a person must act: alarm firing on green: switchyard-dev-web-green-5xx (Threshold Crossed); " +
                `the rollback is written to the stack file but its apply did not complete: --apply "./record.sh" exited with code 1`,
            "  Pulumi.dev.yaml says: live blue",
            "  AWS was last told: canary 10 (live blue, canary 10% to green)",
            `  The file and AWS may differ. To apply what the file says: npm run switchyard -- sync --stack dev --dir ${p.dir} --apply "./record.sh" ` +
                `(to go back to the last safe routing first: npm run switchyard -- rollback --stack dev --dir ${p.dir}, then the same sync)`,
        ]);
        // The recovery: sync applies the file as it is (the rollback), and again changes nothing new.
        const env = { ...process.env, LOG_DIR: p.logDir };
        for (const round of [1, 2]) {
            const out: string[] = [];
            const err: string[] = [];
            const synced = await main(["sync", "--stack", "dev", "--dir", p.dir, "--apply", "./record.sh"], {
                out: (l) => out.push(l),
                err: (l) => err.push(l),
                env,
            });
            assert.equal(synced, 0, err.join("\n"));
            assert.deepEqual(out, [
                "applying Pulumi.dev.yaml as it is (live blue): ./record.sh",
                "in sync: AWS was told what Pulumi.dev.yaml says (live blue)",
            ]);
            assert.equal(applied(p).length, 2 + round);
        }
        assert.deepEqual(applied(p).slice(2), ["02 sync.yaml", "03 sync.yaml"]);
        assert.deepEqual(trafficIn(p, "02 sync.yaml"), { live: "blue" });
        // A sync whose apply fails says so with the same code.
        const err: string[] = [];
        const failed = await main(["sync", "--stack", "dev", "--dir", p.dir, "--apply", "./record.sh"], {
            out: () => undefined,
            err: (l) => err.push(l),
            env: { ...env, FAIL_STEP: "sync" },
        });
        assert.equal(failed, 3);
        assert.equal(err[0], `switchyard: sync: a person must act: the apply did not complete: --apply "./record.sh" exited with code 1`);
        // Bad input: nothing applied, exit 2.
        const missing = await main(["sync", "--stack", "prod", "--dir", p.dir, "--apply", "./record.sh"], {
            out: () => undefined,
            err: () => undefined,
            env,
        });
        assert.equal(missing, 2);
        assert.equal(applied(p).length, 5);
    });

    it("two rollouts started 1 s apart: one finished release and one refusal naming the owner (exit 2, nothing written), nothing rolled back", async () => {
        const p = await project();
        const second = { out: [] as string[], err: [] as string[] };
        // Each apply of the first run takes 4 s, so the second run (1 s in) meets it inside its
        // first apply, not while it writes its next step: the file cannot change under the comparison.
        const env = { APPLY_SECONDS: "4", GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: "acme/web", GITHUB_RUN_ID: "42" };
        const first = rollout(p, { cloudwatch: withoutPercentiles(new CloudWatchClient({})) }, env);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const before = fs.readFileSync(path.join(p.dir, "Pulumi.dev.yaml"), "utf8");
        const refused = await rollout(p, { cloudwatch: withoutPercentiles(new CloudWatchClient({})) }, {}, {}, second);
        const after = fs.readFileSync(path.join(p.dir, "Pulumi.dev.yaml"), "utf8");
        assert.equal(refused, 2, [...second.out, ...second.err].join("\n"));
        assert.equal(after, before, "the refused run wrote nothing");
        assert.deepEqual(second.out, []);
        assert.equal(second.err.length, 1);
        assert.match(
            second.err[0],
            new RegExp(
                "^switchyard: rollout refused, nothing changed: another rollout of stack dev \\(service web\\) is running: " +
                    `\\S+@${os.hostname()} \\(pid ${process.pid}\\) in https://github\\.com/acme/web/actions/runs/42, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ` +
                    "\\(lock switchyard-locks/rollout/dev/web in eu-west-1, expires \\d{4}-[\\d-]+T[\\d:.]+Z unless that run renews it\\); " +
                    "wait for it to end, or stop it; a run that died frees the lock when it expires$",
            ),
        );
        assert.equal(await first, 0, [...p.out, ...p.err].join("\n"));
        assert.deepEqual(applied(p), ["00 canary 10.yaml", "01 flip.yaml", "02 finish.yaml"]);
        // The lock is released at the end.
        const item = await new DynamoDBClient({}).send(
            new GetItemCommand({ TableName: "switchyard-locks", Key: { lock: { S: "rollout/dev/web" } }, ConsistentRead: true }),
        );
        assert.equal(item.Item, undefined);
    });
});
