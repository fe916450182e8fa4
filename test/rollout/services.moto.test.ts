/**
 * `rollout --service api` on a stack of two services on one edge (issue 16), against moto: `web`
 * is the default service, `api` is on `/api/*` (match.priority 100). The edge, both services'
 * target groups and their rules are seeded as `pulumi up` leaves them (test/aws/seed.ts
 * seedServices); a small "ALB" writes api's metrics by the weights the stack file gives api on
 * every tick of a virtual clock; alarms move with SetAlarmState (moto evaluates none). Each step
 * is applied by `--apply` with a script that records the stack file. After the walk, the
 * test does what `pulumi up` would do to api's rules, and `verify --service api` must pass.
 *
 * moto computes no percentiles in GetMetricData (moto/cloudwatch/models.py returns None for p99,
 * then HTTP 500): as in rollout.moto.test.ts the client asks for Maximum in place of p99, and the
 * simulated ALB writes one latency value per colour, for which both are the same number.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CloudWatchClient, PutMetricDataCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { DescribeRulesCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { parse } from "yaml";
import { rolloutCommand } from "../../cli/commands/rollout";
import { runVerify } from "../../cli/verify";
import { arnDimension } from "../../lib/aws/analysis";
import { Color } from "../../lib/config";
import { Clock } from "../../lib/rollout/loop";
import { useMoto } from "../helpers/moto";
import { DIGEST, SeededServices, seedServices } from "../aws/seed";
import { askMaximumForP99, putServiceAlarms } from "../helpers/cloudwatchStandIns";

const NEW = DIGEST.replace(/a{64}$/, "b".repeat(64));

/** Everything above api's keys (region, edge, web's keys with their comments): must keep its bytes. */
const ABOVE_API = `config:
  aws:region: eu-west-1
  switchyard:testAccess:
    cidrs: [203.0.113.0/24]
  switchyard:loadBalancer:
    default: web          # requests no rule matches
  switchyard:services:
    web:
      match: { priority: 40000 }
      service: { desiredCount: 2 }
      slots:
        blue: { image: ${DIGEST} }   # web's live build
        green: { image: ${NEW} }
      traffic:
        live: blue        # web is not being released
`;

const STACK = `${ABOVE_API}    api:
      match: { paths: [/api/*], priority: 100 }
      service: { desiredCount: 2 }
      slots:
        blue: { image: ${DIGEST} }
        green: { image: ${NEW} }   # api's candidate
      traffic:
        live: blue
      rollout:
        steps:
          - canary: 10
            bakeSeconds: 60
          - flip: true
            bakeSeconds: 60
          - finish: true
        analysis: { intervalSeconds: 30, minRequests: 50 }
`;

const RECORDER = `#!/bin/sh
n=$(ls "$LOG_DIR" | wc -l | tr -d ' ')
cp "Pulumi.$SWITCHYARD_STACK.yaml" "$LOG_DIR/$(printf %02d "$n") $SWITCHYARD_STEP.yaml"
`;

const PER_MINUTE = 2000;

interface Harness {
    dir: string;
    logDir: string;
    out: string[];
    err: string[];
    clock: Clock & { t: number };
    cloudwatch: CloudWatchClient;
    writer: CloudWatchClient;
    seeded: SeededServices;
    onTick?: (t: number) => Promise<void>;
}

describe("rollout --service api on a stack of two services (moto)", function () {
    this.timeout(30000);
    const moto = useMoto();
    const tmp: string[] = [];
    after(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    async function harness(): Promise<Harness> {
        const seeded = await seedServices(moto.endpoint, {
            stack: "dev",
            services: [
                { name: "web", weights: { blue: 100, green: 0 }, testTo: "green", targets: { blue: { running: 2 } } },
                {
                    name: "api",
                    weights: { blue: 100, green: 0 },
                    testTo: "green",
                    match: { path: "/api/*", priority: 100 },
                    targets: { blue: { running: 2 }, green: { running: 2 } },
                },
            ],
        });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-services-rollout-"));
        tmp.push(dir);
        const logDir = path.join(dir, "applied");
        fs.mkdirSync(logDir);
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), STACK);
        fs.writeFileSync(path.join(dir, "record.sh"), RECORDER, { mode: 0o755 });
        const writer = new CloudWatchClient({});
        // Each service's alarms, named as components/monitoring.ts names them (lib/alarms.ts).
        await putServiceAlarms(writer, "dev", ["web", "api"]);
        const h: Harness = {
            dir,
            logDir,
            out: [],
            err: [],
            cloudwatch: new CloudWatchClient({}),
            writer,
            seeded,
            clock: undefined as never,
        };
        askMaximumForP99(h.cloudwatch);
        const start = Math.ceil(Date.now() / 60_000) * 60_000;
        h.clock = {
            t: start,
            now: () => h.clock.t,
            sleep: async (ms, signal) => {
                if (signal.aborted) return;
                h.clock.t += ms;
                await alb(h, ms);
                await h.onTick?.(h.clock.t);
            },
        };
        return h;
    }

    const fileText = (h: Harness) => fs.readFileSync(path.join(h.dir, "Pulumi.dev.yaml"), "utf8");
    const apiTraffic = (text: string) => parse(text).config["switchyard:services"].api.traffic;
    const applied = (h: Harness) => fs.readdirSync(h.logDir).sort();
    const appliedText = (h: Harness, file: string) => fs.readFileSync(path.join(h.logDir, file), "utf8");

    /** api's metrics for the last `ms`, split by the weights the file gives api now (healthy: 0.1 % errors). */
    async function alb(h: Harness, ms: number): Promise<void> {
        const traffic = apiTraffic(fileText(h));
        const canary = traffic.canary?.percent ?? 0;
        const live: Color = traffic.live;
        const share: Record<Color, number> = { blue: 0, green: 0 };
        share[live] = 100 - canary;
        share[live === "blue" ? "green" : "blue"] = canary;
        const data = (["blue", "green"] as const).flatMap((color) => {
            const requests = Math.round((PER_MINUTE * (ms / 60_000) * share[color]) / 100);
            if (requests === 0) return [];
            const Dimensions = [
                { Name: "LoadBalancer", Value: arnDimension(h.seeded.loadBalancerArn) },
                { Name: "TargetGroup", Value: arnDimension(h.seeded.targetGroups.api[color]) },
            ];
            const Timestamp = new Date(h.clock.t - 1000);
            return [
                { MetricName: "RequestCount", Dimensions, Timestamp, Value: requests },
                { MetricName: "HTTPCode_Target_5XX_Count", Dimensions, Timestamp, Value: Math.round(requests / 1000) },
                { MetricName: "TargetConnectionErrorCount", Dimensions, Timestamp, Value: 0 },
                {
                    MetricName: "TargetResponseTime",
                    Dimensions,
                    Timestamp,
                    StatisticValues: { SampleCount: requests, Sum: 0.1 * requests, Minimum: 0.1, Maximum: 0.1 },
                },
            ];
        });
        if (data.length > 0) await h.writer.send(new PutMetricDataCommand({ Namespace: "AWS/ApplicationELB", MetricData: data }));
    }

    const run = (h: Harness, { service }: { service?: string } = { service: "api" }) =>
        rolloutCommand(
            { stack: "dev", dir: h.dir, apply: "./record.sh", service },
            { out: (l) => h.out.push(l), err: (l) => h.err.push(l), env: { ...process.env, LOG_DIR: h.logDir } },
            { clock: h.clock, cloudwatch: h.cloudwatch },
        );

    const alarm = (name: string) =>
        new CloudWatchClient({}).send(new SetAlarmStateCommand({ AlarmName: name, StateValue: "ALARM", StateReason: "Threshold Crossed" }));

    /** What `pulumi up` of the file does to api's rules: its weighted forward (199) and its test rule (100). */
    async function applyApiRules(h: Harness): Promise<void> {
        const traffic = apiTraffic(fileText(h));
        const elb = new ElasticLoadBalancingV2Client({});
        const tg = h.seeded.targetGroups.api;
        const candidate: Color = traffic.live === "blue" ? "green" : "blue";
        const canary = traffic.canary?.percent ?? 0;
        const weights: Record<Color, number> = { blue: 0, green: 0 };
        weights[traffic.live as Color] = 100 - canary;
        weights[candidate] = canary;
        const ruleAt = async (listener: string, priority: string) =>
            (await elb.send(new DescribeRulesCommand({ ListenerArn: listener }))).Rules!.find((r) => r.Priority === priority)!.RuleArn;
        await elb.send(
            new ModifyRuleCommand({
                RuleArn: await ruleAt(h.seeded.productionListenerArn, "199"),
                Actions: [
                    {
                        Type: "forward",
                        ForwardConfig: {
                            TargetGroups: (["blue", "green"] as const).map((c) => ({ TargetGroupArn: tg[c], Weight: weights[c] })),
                        },
                    },
                ],
            }),
        );
        await elb.send(
            new ModifyRuleCommand({
                RuleArn: await ruleAt(h.seeded.testListenerArn, "100"),
                Actions: [{ Type: "forward", TargetGroupArn: tg[candidate] }],
            }),
        );
    }

    it("walks api through canary, flip and finish; web's keys keep their bytes; verify --service api passes after", async () => {
        const h = await harness();
        // web's candidate alarm fires the whole time: it is web's, not api's, and must not stop api.
        await alarm("switchyard-dev-web-green-5xx");
        const code = await run(h);
        assert.equal(code, 0, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 flip.yaml", "02 finish.yaml"]);
        assert.deepEqual(apiTraffic(appliedText(h, "00 canary 10.yaml")), { live: "blue", canary: { percent: 10 } });
        assert.deepEqual(apiTraffic(appliedText(h, "01 flip.yaml")), { live: "green", previous: "blue" });
        assert.deepEqual(apiTraffic(fileText(h)), { live: "green" });
        for (const file of applied(h)) assert.ok(appliedText(h, file).startsWith(ABOVE_API), `${file}: web's keys changed`);
        assert.ok(fileText(h).startsWith(ABOVE_API), "web's keys changed");
        assert.equal(h.out.at(-1), "rollout done: canary 10, flip, finish");

        await applyApiRules(h);
        const lines: string[] = [];
        const verified = await runVerify({
            stack: "dev",
            service: "api",
            dir: h.dir,
            out: (l) => lines.push(l),
            err: (l) => lines.push(l),
        });
        assert.equal(lines.at(-1), "in sync: AWS matches the stack file", lines.join("\n"));
        assert.equal(verified, 0);
    });

    it("rolls back api alone when api's candidate alarm fires; web's keys keep their bytes", async () => {
        const h = await harness();
        let ticks = 0;
        h.onTick = async () => {
            if (++ticks === 2) await alarm("switchyard-dev-api-green-5xx");
        };
        const code = await run(h);
        assert.equal(code, 1, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 rollback.yaml"]);
        assert.deepEqual(apiTraffic(fileText(h)), { live: "blue" });
        for (const file of applied(h)) assert.ok(appliedText(h, file).startsWith(ABOVE_API), `${file}: web's keys changed`);
        assert.ok(fileText(h).startsWith(ABOVE_API), "web's keys changed");
        assert.deepEqual(h.err, [
            "rolled back at step 1/3 (canary 10): alarm firing on green: switchyard-dev-api-green-5xx (Threshold Crossed)",
        ]);
    });

    it("refuses without --service, listing the services (exit 2, nothing written or applied)", async () => {
        const h = await harness();
        const code = await run(h, {});
        assert.equal(code, 2);
        assert.deepEqual(h.err, [
            "switchyard: rollout refused, nothing changed: stack dev has 2 services (web, api): rollout needs --service NAME, one of web, api",
        ]);
        assert.deepEqual(applied(h), []);
        assert.equal(fileText(h), STACK);
    });
});
