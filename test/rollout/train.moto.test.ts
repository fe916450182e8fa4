/**
 * `rollout --train checkout` against moto (issue 17 item 4): api (v2 live on blue, v3 candidate
 * on green) and web (both builds require api [2, 3]; web's candidate on green) released as one
 * train. The edge, both services' target groups and rules are seeded as `pulumi up` leaves them
 * (test/aws/seed.ts seedServices); a small "ALB" writes each service's metrics by the weights the
 * stack file gives it on every tick of a virtual clock; alarms move with SetAlarmState (moto
 * evaluates none). Each step is applied by `--apply` with a script that records the stack file.
 *
 * moto computes no percentiles in GetMetricData (moto/cloudwatch/models.py returns None for p99,
 * then HTTP 500): as in services.moto.test.ts the client asks for Maximum in place of p99.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    CloudWatchClient,
    DescribeAlarmsCommandInput,
    GetMetricDataCommandInput,
    PutMetricDataCommand,
    SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { parse } from "yaml";
import { rolloutCommand } from "../../cli/commands/rollout";
import { arnDimension } from "../../lib/aws/analysis";
import { LOCK_TABLE, acquireLock, rolloutLockKey } from "../../lib/aws/lock";
import { Color } from "../../lib/config";
import { Clock } from "../../lib/rollout/loop";
import { useMoto } from "../helpers/moto";
import { DIGEST, SeededServices, seedServices } from "../aws/seed";
import { askMaximumForP99, putServiceAlarms } from "../helpers/cloudwatchStandIns";

const V3 = DIGEST.replace(/a{64}$/, "b".repeat(64));
const WEB_OLD = DIGEST.replace(/a{64}$/, "c".repeat(64));
const WEB_NEW = DIGEST.replace(/a{64}$/, "d".repeat(64));

const STACK = `config:
  aws:region: eu-west-1
  switchyard:testAccess:
    cidrs: [203.0.113.0/24]
  switchyard:loadBalancer:
    default: web
  switchyard:services:
    api:
      match: { paths: [/api/*], priority: 100 }
      service: { desiredCount: 2 }
      slots:
        blue: { image: ${DIGEST}, provides: 2 }
        green: { image: ${V3}, provides: 3 }
      traffic:
        live: blue
      rollout:
        analysis: { intervalSeconds: 30, minRequests: 50 }
    web:
      match: { priority: 40000 }
      service: { desiredCount: 2 }
      slots:
        blue: { image: ${WEB_OLD}, requires: { api: [2, 3] } }
        green: { image: ${WEB_NEW}, requires: { api: [2, 3] } }
      traffic:
        live: blue
      rollout:
        analysis: { intervalSeconds: 30, minRequests: 50 }
  switchyard:trains:
    checkout:
      services: [api, web]
      steps:
        - canary: 10
          bakeSeconds: 60
        - flip: true
          bakeSeconds: 60
        - finish: true
`;

const RECORDER = `#!/bin/sh
n=$(ls "$LOG_DIR" | wc -l | tr -d ' ')
cp "Pulumi.$SWITCHYARD_STACK.yaml" "$LOG_DIR/$(printf %02d "$n") $SWITCHYARD_STEP.yaml"
`;

const PER_MINUTE = 2000;
const SERVICES = ["api", "web"] as const;
type Service = (typeof SERVICES)[number];

interface Harness {
    dir: string;
    logDir: string;
    out: string[];
    err: string[];
    clock: Clock & { t: number };
    cloudwatch: CloudWatchClient;
    writer: CloudWatchClient;
    seeded: SeededServices;
    /** Per service and colour: the share of its requests that fail (default 0.1 %). */
    errorShare: Partial<Record<`${Service}-${Color}`, number>>;
    /** The AWS calls of the analysis: one entry per GetMetricData (its query count) and per DescribeAlarms (its names). */
    metricCalls: number[];
    alarmCalls: string[][];
    onTick?: (t: number) => Promise<void> | void;
}

describe("rollout --train checkout: api and web released as one train (moto)", function () {
    this.timeout(40000);
    const moto = useMoto();
    const tmp: string[] = [];
    after(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    async function harness(stack = STACK): Promise<Harness> {
        const seeded = await seedServices(moto.endpoint, {
            stack: "dev",
            services: [
                {
                    name: "web",
                    weights: { blue: 100, green: 0 },
                    testTo: "green",
                    targets: { blue: { running: 2 }, green: { running: 2 } },
                },
                {
                    name: "api",
                    weights: { blue: 100, green: 0 },
                    testTo: "green",
                    match: { path: "/api/*", priority: 100 },
                    targets: { blue: { running: 2 }, green: { running: 2 } },
                },
            ],
        });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-train-rollout-"));
        tmp.push(dir);
        const logDir = path.join(dir, "applied");
        fs.mkdirSync(logDir);
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stack);
        fs.writeFileSync(path.join(dir, "record.sh"), RECORDER, { mode: 0o755 });
        const writer = new CloudWatchClient({});
        await putServiceAlarms(writer, "dev", SERVICES);
        const h: Harness = {
            dir,
            logDir,
            out: [],
            err: [],
            cloudwatch: new CloudWatchClient({}),
            writer,
            seeded,
            clock: undefined as never,
            errorShare: {},
            metricCalls: [],
            alarmCalls: [],
        };
        askMaximumForP99(h.cloudwatch, (input) => {
            const { AlarmNames, MetricDataQueries } = input as GetMetricDataCommandInput & DescribeAlarmsCommandInput;
            if (AlarmNames) h.alarmCalls.push([...AlarmNames]);
            if (MetricDataQueries) h.metricCalls.push(MetricDataQueries.length);
        });
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
    const traffic = (text: string, service: Service) => parse(text).config["switchyard:services"][service].traffic;
    const both = (text: string) => ({ api: traffic(text, "api"), web: traffic(text, "web") });
    const applied = (h: Harness) => fs.readdirSync(h.logDir).sort();
    const appliedText = (h: Harness, file: string) => fs.readFileSync(path.join(h.logDir, file), "utf8");

    /** Each service's metrics for the last `ms`, split by the weights the file gives it now. */
    async function alb(h: Harness, ms: number): Promise<void> {
        const text = fileText(h);
        const data = SERVICES.flatMap((service) => {
            const t = traffic(text, service);
            const canary = t.canary?.percent ?? 0;
            const live: Color = t.live;
            const share: Record<Color, number> = { blue: 0, green: 0 };
            share[live] = 100 - canary;
            share[live === "blue" ? "green" : "blue"] = canary;
            return (["blue", "green"] as const).flatMap((color) => {
                const requests = Math.round((PER_MINUTE * (ms / 60_000) * share[color]) / 100);
                if (requests === 0) return [];
                const Dimensions = [
                    { Name: "LoadBalancer", Value: arnDimension(h.seeded.loadBalancerArn) },
                    { Name: "TargetGroup", Value: arnDimension(h.seeded.targetGroups[service][color]) },
                ];
                const Timestamp = new Date(h.clock.t - 1000);
                const errors = Math.round(requests * (h.errorShare[`${service}-${color}`] ?? 0.001));
                return [
                    { MetricName: "RequestCount", Dimensions, Timestamp, Value: requests },
                    { MetricName: "HTTPCode_Target_5XX_Count", Dimensions, Timestamp, Value: errors },
                    { MetricName: "TargetConnectionErrorCount", Dimensions, Timestamp, Value: 0 },
                    {
                        MetricName: "TargetResponseTime",
                        Dimensions,
                        Timestamp,
                        StatisticValues: { SampleCount: requests, Sum: 0.1 * requests, Minimum: 0.1, Maximum: 0.1 },
                    },
                ];
            });
        });
        // PutMetricData takes up to 1000 metrics per call; 16 here.
        if (data.length > 0) await h.writer.send(new PutMetricDataCommand({ Namespace: "AWS/ApplicationELB", MetricData: data }));
    }

    const run = (h: Harness, extra: { service?: string; continue?: boolean } = {}) =>
        rolloutCommand(
            { stack: "dev", dir: h.dir, apply: "./record.sh", train: "checkout", ...extra },
            { out: (l) => h.out.push(l), err: (l) => h.err.push(l), env: { ...process.env, LOG_DIR: h.logDir } },
            { clock: h.clock, cloudwatch: h.cloudwatch },
        );

    const alarm = (name: string) =>
        new CloudWatchClient({}).send(new SetAlarmStateCommand({ AlarmName: name, StateValue: "ALARM", StateReason: "Threshold Crossed" }));

    it("walks every step for every member: one edit and one apply per step, both watched in 2 AWS calls per poll", async () => {
        const h = await harness();
        const code = await run(h);
        assert.equal(code, 0, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 flip.yaml", "02 finish.yaml"]);
        assert.deepEqual(both(appliedText(h, "00 canary 10.yaml")), {
            api: { live: "blue", canary: { percent: 10 } },
            web: { live: "blue", canary: { percent: 10 } },
        });
        assert.deepEqual(both(appliedText(h, "01 flip.yaml")), {
            api: { live: "green", previous: "blue" },
            web: { live: "green", previous: "blue" },
        });
        assert.deepEqual(both(fileText(h)), { api: { live: "green" }, web: { live: "green" } });
        assert.equal(h.out.at(-1), "rollout done: canary 10, flip, finish");
        // Each poll: one GetMetricData with both members' 10 queries, one DescribeAlarms with both watched colours' 3 names.
        // Setup reads each member's alarm topics once (6 names each); then the two bakes poll at 0, 30 and 60 s: 6 polls.
        assert.deepEqual(h.metricCalls, [20, 20, 20, 20, 20, 20]);
        assert.deepEqual(h.alarmCalls.length, 2 + 6);
        for (const names of h.alarmCalls.slice(2)) {
            assert.deepEqual(names, [
                "switchyard-dev-api-green-5xx",
                "switchyard-dev-api-green-unhealthy-hosts",
                "switchyard-dev-api-green-p99-latency",
                "switchyard-dev-web-green-5xx",
                "switchyard-dev-web-green-unhealthy-hosts",
                "switchyard-dev-web-green-p99-latency",
            ]);
        }
    });

    it("rolls every member back in one edit and apply when one member's candidate alarm fires, naming that member", async () => {
        const h = await harness();
        let ticks = 0;
        h.onTick = async () => {
            if (++ticks === 2) await alarm("switchyard-dev-web-green-5xx");
        };
        const code = await run(h);
        assert.equal(code, 1, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 rollback.yaml"]);
        assert.deepEqual(both(appliedText(h, "01 rollback.yaml")), { api: { live: "blue" }, web: { live: "blue" } });
        assert.deepEqual(h.err, [
            "rolled back at step 1/3 (canary 10): web: alarm firing on green: switchyard-dev-web-green-5xx (Threshold Crossed)",
        ]);
    });

    it("rolls every member back when one member's error rate is too high, naming that member", async () => {
        const h = await harness();
        h.errorShare["api-green"] = 0.2;
        const code = await run(h);
        assert.equal(code, 1, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 rollback.yaml"]);
        assert.deepEqual(both(fileText(h)), { api: { live: "blue" }, web: { live: "blue" } });
        assert.equal(h.err.length, 1);
        assert.match(h.err[0], /^rolled back at step 1\/3 \(canary 10\): api: green error rate 20\.0% over the bake \(\d+ target 5xx/);
    });

    it("resumes after SIGINT during a bake at the step the file is at, and a second run finishes", async () => {
        const h = await harness();
        let polls = 0;
        h.onTick = () => {
            // In the middle of the flip's bake (its first tick; the canary's bake has 2).
            if (++polls === 3) process.emit("SIGINT");
        };
        assert.equal(await run(h), 130);
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 flip.yaml"]);
        assert.deepEqual(both(fileText(h)), { api: { live: "green", previous: "blue" }, web: { live: "green", previous: "blue" } });
        assert.match(
            h.err.at(-1)!,
            /^interrupted at step 2\/3 \(flip\); Pulumi\.dev\.yaml says flip and is consistent\. To continue: npm run switchyard -- rollout --stack dev --train checkout /,
        );
        h.onTick = undefined;
        h.out.length = 0;
        assert.equal(await run(h), 0, h.err.join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 flip.yaml", "02 flip.yaml", "03 finish.yaml"]);
        assert.equal(h.out[0], "step 2/3 (flip): the stack file already says so; applying it again and baking it from the start");
        assert.deepEqual(both(fileText(h)), { api: { live: "green" }, web: { live: "green" } });
    });

    it("stops at the train's pause (exit 0) and --continue re-applies the step before it, passes the pause and finishes", async () => {
        const stack = STACK.replace("        - flip: true\n", "        - pause: true\n        - flip: true\n");
        const h = await harness(stack);
        assert.equal(await run(h), 0, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml"]);
        assert.equal(
            h.out.at(-1),
            "paused at step 2/4 after canary 10. To continue: npm run switchyard -- rollout --stack dev --train checkout --continue " +
                "(it applies and bakes canary 10 again, then goes past the pause). To roll back: npm run switchyard -- rollback --stack dev --train checkout, then pulumi up --stack dev",
        );
        assert.equal(await run(h, { continue: true }), 0, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 canary 10.yaml", "02 flip.yaml", "03 finish.yaml"]);
        assert.deepEqual(both(fileText(h)), { api: { live: "green" }, web: { live: "green" } });
    });

    it("refuses members at different steps (exit 2, nothing written or applied)", async () => {
        const stack = STACK.replace(
            "        live: blue\n      rollout:",
            "        live: blue\n        canary: { percent: 10 }\n      rollout:",
        );
        const h = await harness(stack);
        const code = await run(h);
        assert.equal(code, 2, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(h.err, [
            "switchyard: rollout refused, nothing changed: the members are not at the same step: api at step 1/3 (canary 10), " +
                "web before its first step; bring them to one step with the release tool's --train commands (or roll the train back), then run rollout again",
        ]);
        assert.deepEqual(applied(h), []);
        assert.equal(fileText(h), stack);
    });

    it("is kept out by a running rollout --service web (its member's lock), and releases the lock it took (exit 2)", async () => {
        const h = await harness();
        const dynamodb = new DynamoDBClient({});
        const other = await acquireLock(dynamodb, rolloutLockKey("dev", "web"), "someone@elsewhere (pid 1)");
        assert.ok(other.ok);
        const code = await run(h);
        assert.equal(code, 2, [...h.out, ...h.err].join("\n"));
        assert.match(
            h.err[0],
            /^switchyard: rollout refused, nothing changed: another rollout of stack dev \(service web\) is running: someone@elsewhere \(pid 1\), since /,
        );
        assert.deepEqual(applied(h), []);
        // api's lock, taken before web's was refused, is released.
        const api = await dynamodb.send(new GetItemCommand({ TableName: LOCK_TABLE, Key: { lock: { S: rolloutLockKey("dev", "api") } } }));
        assert.equal(api.Item, undefined);
        await other.lock.release();
    });

    // Found by review: only "held by another run" released the members' locks taken so far; a
    // refused or timed-out PutItem left them held until they expired, keeping every rollout out.
    it("releases the locks it took when taking a later member's lock fails (AccessDenied), exit 2", async () => {
        const h = await harness();
        const dynamodb = new DynamoDBClient({});
        const failing = new DynamoDBClient({});
        failing.middlewareStack.add(
            (next) => async (args) => {
                const input = args.input as { Item?: { lock?: { S?: string } } };
                if (input.Item?.lock?.S === rolloutLockKey("dev", "web")) {
                    const e = new Error("simulated: no dynamodb:PutItem on web's lock");
                    e.name = "AccessDeniedException";
                    throw e;
                }
                return next(args);
            },
            { step: "initialize" },
        );
        const code = await rolloutCommand(
            { stack: "dev", dir: h.dir, apply: "./record.sh", train: "checkout" },
            { out: (l) => h.out.push(l), err: (l) => h.err.push(l), env: { ...process.env, LOG_DIR: h.logDir } },
            { clock: h.clock, cloudwatch: h.cloudwatch, dynamodb: failing },
        );
        assert.equal(code, 2, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), []);
        const api = await dynamodb.send(new GetItemCommand({ TableName: LOCK_TABLE, Key: { lock: { S: rolloutLockKey("dev", "api") } } }));
        assert.equal(api.Item, undefined);
    });
});
