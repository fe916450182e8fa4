/**
 * `rollout` end to end against moto's server (started once for this file): the load balancer and
 * target groups tagged as the stack tags them (test/aws/seed.ts), the alarms named as
 * components/monitoring.ts names them, metrics written with PutMetricData by a small "ALB" that
 * follows the stack file's weights on every tick of a virtual clock, alarms moved with
 * SetAlarmState. Each step is applied by `--apply` with a script that records the stack file it is
 * given. The edits are the release tool's own commands.
 *
 * What moto cannot do, and how the test adapts (moto 5.2.1):
 * - GetMetricData with an extended statistic: moto computes no percentiles (moto/cloudwatch/models.py
 *   `Statistics.get_statistics_for_type` returns None for `p99`) and then fails to serialise the
 *   None (HTTP 500 from moto/core/serialize.py `_serialize_type_float`). The CloudWatch client of
 *   these tests therefore records each request as sent (with `Stat: "p99"`, asserted below) and
 *   asks moto for `Maximum` in its place; the simulated ALB writes one latency value per colour
 *   on every tick, for which the maximum and the p99 are the same number (per minute and over the whole window).
 * - Alarms are not evaluated from metrics by moto; they change state only with SetAlarmState,
 *   which is what the alarm test uses.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    CloudWatchClient,
    DescribeAlarmsCommandInput,
    DescribeAlarmsCommandOutput,
    GetMetricDataCommandInput,
    PutMetricAlarmCommand,
    PutMetricDataCommand,
    SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { CreateTopicCommand, PublishCommandInput, SNSClient } from "@aws-sdk/client-sns";
import { parse, stringify } from "yaml";
import { rolloutCommand } from "../../cli/commands/rollout";
import { alarmTopics, arnDimension } from "../../lib/aws/analysis";
import { Color } from "../../lib/config";
import { Clock } from "../../lib/rollout/loop";
import { useMoto } from "../helpers/moto";
import { DIGEST, seedStack } from "../aws/seed";
import { askMaximumForP99 } from "../helpers/cloudwatchStandIns";

const NEW = DIGEST.replace(/a{64}$/, "b".repeat(64));
const SERVICE = "web";

/** Traffic the simulated ALB serves per minute, split by the stack file's weights. */
interface Behaviour {
    /** Target 5xx (HTTPCode_Target_5XX_Count). */
    readonly errorPercent: Record<Color, number>;
    /** Connections the ALB could not open to the tasks (TargetConnectionErrorCount). */
    readonly connectionErrorPercent: Record<Color, number>;
    readonly latency: Record<Color, number>;
}
const HEALTHY: Behaviour = {
    errorPercent: { blue: 0.1, green: 0.1 },
    connectionErrorPercent: { blue: 0, green: 0 },
    latency: { blue: 0.1, green: 0.1 },
};
const PER_MINUTE = 2000;

interface Harness {
    dir: string;
    logDir: string;
    out: string[];
    err: string[];
    clock: Clock & { t: number };
    cloudwatch: CloudWatchClient;
    /** Writes the simulated ALB's metrics (a plain client, not the one under test). */
    writer: CloudWatchClient;
    sns: SNSClient;
    /** GetMetricData inputs as the command sent them (before the p99 -> Maximum adaptation). */
    metricRequests: GetMetricDataCommandInput[];
    calls: string[];
    published: PublishCommandInput[];
    targetGroups: Record<Color, string>;
    loadBalancerArn: string;
    topicArn: string;
    behaviour: Behaviour;
    /** Called at every virtual tick, after the ALB wrote its metrics. */
    onTick?: (t: number) => Promise<void> | void;
}

const RECORDER = `#!/bin/sh
# Records each stack file the rollout applies; fails the step named in FAIL_STEP.
n=$(ls "$LOG_DIR" | wc -l | tr -d ' ')
cp "Pulumi.$SWITCHYARD_STACK.yaml" "$LOG_DIR/$(printf %02d "$n") $SWITCHYARD_STEP.yaml"
echo "applied $SWITCHYARD_STEP to $SWITCHYARD_STACK"
[ "$SWITCHYARD_STEP" != "\${FAIL_STEP:-}" ]
`;

function stackText(rollout: unknown, traffic: unknown = { live: "blue" }): string {
    return stringify({
        config: {
            "aws:region": "eu-west-1",
            "switchyard:service": { name: SERVICE },
            "switchyard:slots": { blue: { image: DIGEST }, green: { image: NEW } },
            "switchyard:traffic": traffic,
            "switchyard:rollout": rollout,
        },
    });
}

/** An alarm named and notifying as the stack's would (moto stores it; it evaluates nothing). */
function putAlarm(cloudwatch: CloudWatchClient, name: string, metricName: string, topicArn: string) {
    return cloudwatch.send(
        new PutMetricAlarmCommand({
            AlarmName: name,
            Namespace: "AWS/ApplicationELB",
            MetricName: metricName,
            Statistic: "Maximum",
            Period: 60,
            EvaluationPeriods: 3,
            Threshold: 10,
            ComparisonOperator: "GreaterThanOrEqualToThreshold",
            AlarmActions: [topicArn],
        }),
    );
}

const STEPS = {
    steps: [{ canary: 10, bakeSeconds: 60 }, { canary: 50, bakeSeconds: 60 }, { flip: true, bakeSeconds: 60 }, { finish: true }],
    analysis: { intervalSeconds: 30, minRequests: 50 },
};

describe("rollout against moto (cli/commands/rollout.ts)", function () {
    this.timeout(30000);
    const moto = useMoto();
    const tmp: string[] = [];
    after(() => tmp.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    async function harness(rollout: unknown = STEPS, traffic?: unknown): Promise<Harness> {
        const seeded = await seedStack(moto.endpoint, { stack: "dev", weights: { blue: 100, green: 0 }, testTo: "green" });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-rollout-"));
        tmp.push(dir);
        const logDir = path.join(dir, "applied");
        fs.mkdirSync(logDir);
        fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stackText(rollout, traffic));
        fs.writeFileSync(path.join(dir, "record.sh"), RECORDER, { mode: 0o755 });
        const plain = new CloudWatchClient({});
        const topic = await new SNSClient({}).send(new CreateTopicCommand({ Name: "alarms" }));
        for (const color of ["blue", "green"] as const)
            for (const [suffix, metric] of [
                ["5xx", "HTTPCode_Target_5XX_Count"],
                ["unhealthy-hosts", "UnHealthyHostCount"],
                ["p99-latency", "TargetResponseTime"],
            ])
                await putAlarm(plain, `switchyard-dev-${SERVICE}-${color}-${suffix}`, metric, topic.TopicArn!);
        const h: Harness = {
            dir,
            logDir,
            out: [],
            err: [],
            metricRequests: [],
            calls: [],
            published: [],
            targetGroups: seeded.targetGroups,
            loadBalancerArn: seeded.loadBalancerArn,
            topicArn: topic.TopicArn!,
            behaviour: HEALTHY,
            cloudwatch: new CloudWatchClient({}),
            writer: plain,
            sns: new SNSClient({}),
            clock: undefined as unknown as Harness["clock"],
        };
        askMaximumForP99(h.cloudwatch, (input, commandName) => {
            h.calls.push(commandName);
            if ((input as GetMetricDataCommandInput).MetricDataQueries)
                h.metricRequests.push(structuredClone(input as GetMetricDataCommandInput));
        });
        h.sns.middlewareStack.add(
            (next) => async (args) => {
                const result = await next(args);
                assert.ok((result.output as { MessageId?: string }).MessageId, "moto accepted the Publish");
                h.published.push(args.input as PublishCommandInput);
                return result;
            },
            { step: "initialize" },
        );
        // On a minute boundary, so each tick's metrics (written 1 s before the tick) land in the minute they happened in.
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

    /** The ALB's metrics for the last `ms`, split by the weights in the stack file now. */
    async function alb(h: Harness, ms: number): Promise<void> {
        const cfg = parse(fs.readFileSync(path.join(h.dir, "Pulumi.dev.yaml"), "utf8")).config;
        const traffic = cfg["switchyard:traffic"];
        const canary = traffic.canary?.percent ?? 0;
        const live: Color = traffic.live;
        const share: Record<Color, number> = { blue: 0, green: 0 };
        share[live] = 100 - canary;
        share[live === "blue" ? "green" : "blue"] = canary;
        const lb = arnDimension(h.loadBalancerArn);
        const data = (["blue", "green"] as const).flatMap((color) => {
            const requests = Math.round((PER_MINUTE * (ms / 60_000) * share[color]) / 100);
            if (requests === 0) return [];
            const Dimensions = [
                { Name: "LoadBalancer", Value: lb },
                { Name: "TargetGroup", Value: arnDimension(h.targetGroups[color]) },
            ];
            const Timestamp = new Date(h.clock.t - 1000);
            const latency = h.behaviour.latency[color];
            return [
                { MetricName: "RequestCount", Dimensions, Timestamp, Value: requests },
                {
                    MetricName: "HTTPCode_Target_5XX_Count",
                    Dimensions,
                    Timestamp,
                    Value: Math.round((requests * h.behaviour.errorPercent[color]) / 100),
                },
                {
                    MetricName: "TargetConnectionErrorCount",
                    Dimensions,
                    Timestamp,
                    Value: Math.round((requests * h.behaviour.connectionErrorPercent[color]) / 100),
                },
                {
                    MetricName: "TargetResponseTime",
                    Dimensions,
                    Timestamp,
                    StatisticValues: { SampleCount: requests, Sum: latency * requests, Minimum: latency, Maximum: latency },
                },
            ];
        });
        if (data.length > 0) await h.writer.send(new PutMetricDataCommand({ Namespace: "AWS/ApplicationELB", MetricData: data }));
    }

    const run = (h: Harness, extra: Partial<Parameters<typeof rolloutCommand>[0]> = {}, env: NodeJS.ProcessEnv = {}) =>
        rolloutCommand(
            { stack: "dev", dir: h.dir, apply: "./record.sh", ...extra },
            { out: (l) => h.out.push(l), err: (l) => h.err.push(l), env: { ...process.env, LOG_DIR: h.logDir, ...env } },
            { clock: h.clock, cloudwatch: h.cloudwatch, sns: h.sns },
        );
    const applied = (h: Harness) => fs.readdirSync(h.logDir).sort();
    const trafficIn = (h: Harness, file: string) => parse(fs.readFileSync(path.join(h.logDir, file), "utf8")).config["switchyard:traffic"];
    const fileTraffic = (h: Harness) => parse(fs.readFileSync(path.join(h.dir, "Pulumi.dev.yaml"), "utf8")).config["switchyard:traffic"];

    it("walks every step of a healthy release, two AWS calls per poll, and notifies the alarm topic", async () => {
        const h = await harness();
        const code = await run(h);
        assert.equal(code, 0, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 canary 50.yaml", "02 flip.yaml", "03 finish.yaml"]);
        assert.deepEqual(trafficIn(h, "00 canary 10.yaml"), { live: "blue", canary: { percent: 10 } });
        assert.deepEqual(trafficIn(h, "01 canary 50.yaml"), { live: "blue", canary: { percent: 50 } });
        assert.deepEqual(trafficIn(h, "02 flip.yaml"), { live: "green", previous: "blue" });
        assert.deepEqual(fileTraffic(h), { live: "green" });
        assert.equal(h.out.at(-1), "rollout done: canary 10, canary 50, flip, finish");
        // 3 bakes of 60 s at 30 s: 3 polls each, one GetMetricData and one DescribeAlarms per poll.
        const polls = h.out.filter((l) => /^step \d\/4 \((canary \d+|flip)\) \d:\d\d\/1:00 · /.test(l));
        assert.equal(polls.length, 9, h.out.join("\n"));
        assert.equal(h.calls.length, 1 + 9 * 2, `one DescribeAlarms for the topics, then 2 calls per poll: ${h.calls.join(", ")}`);
        assert.equal(h.calls.filter((c) => c === "GetMetricDataCommand").length, 9);
        assert.ok(
            h.out.includes(
                "step 2/4 (canary 50) 1:00/1:00 · green 1000 req · errors 0.20% vs 0.20% · p99 0.100 s vs 0.100 s · alarms ok (3)",
            ),
            h.out.join("\n"),
        );
        // The request as sent: both colours' target groups, four per-minute series and the p99 of the
        // whole window, dimensions {LoadBalancer, TargetGroup}.
        const first = h.metricRequests[0];
        assert.deepEqual(
            first.MetricDataQueries!.map((q) => [
                q.Id,
                q.MetricStat!.Metric!.MetricName,
                q.MetricStat!.Stat,
                q.MetricStat!.Period,
                q.MetricStat!.Metric!.Dimensions!.map((d) => d.Name),
            ]),
            (["blue", "green"] as const).flatMap((c) => [
                [`requests_${c}`, "RequestCount", "Sum", 60, ["LoadBalancer", "TargetGroup"]],
                [`target5xx_${c}`, "HTTPCode_Target_5XX_Count", "Sum", 60, ["LoadBalancer", "TargetGroup"]],
                [`connerrors_${c}`, "TargetConnectionErrorCount", "Sum", 60, ["LoadBalancer", "TargetGroup"]],
                [`p99_${c}`, "TargetResponseTime", "p99", 60, ["LoadBalancer", "TargetGroup"]],
                [`p99bake_${c}`, "TargetResponseTime", "p99", 60, ["LoadBalancer", "TargetGroup"]],
            ]),
        );
        assert.deepEqual(
            h.published.map((p) => [p.TopicArn, p.Subject]),
            [
                [h.topicArn, "switchyard dev: rollout started"],
                [h.topicArn, "switchyard dev: canary 10"],
                [h.topicArn, "switchyard dev: canary 50"],
                [h.topicArn, "switchyard dev: flip"],
                [h.topicArn, "switchyard dev: finish"],
                [h.topicArn, "switchyard dev: rollout done"],
            ],
        );
    });

    it("rolls back when the candidate's alarm fires, naming the alarm", async () => {
        const h = await harness();
        let ticks = 0;
        h.onTick = async () => {
            // The alarm turns ALARM one minute into the canary 10 bake.
            if (++ticks === 2)
                await new CloudWatchClient({}).send(
                    new SetAlarmStateCommand({
                        AlarmName: "switchyard-dev-web-green-5xx",
                        StateValue: "ALARM",
                        StateReason: "Threshold Crossed: 14 5XX",
                    }),
                );
        };
        const code = await run(h);
        assert.equal(code, 1);
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 rollback.yaml"]);
        assert.deepEqual(trafficIn(h, "01 rollback.yaml"), { live: "blue" });
        // Rolled back at the first poll after the alarm fired, not at the end of the bake.
        assert.match(
            h.out.filter((l) => l.startsWith("step 1/4")).at(-1)!,
            /^step 1\/4 \(canary 10\) 1:00\/1:00 · .* · ALARM: switchyard-dev-web-green-5xx$/,
        );
        assert.deepEqual(h.err, [
            "rolled back at step 1/4 (canary 10): alarm firing on green: switchyard-dev-web-green-5xx (Threshold Crossed: 14 5XX)",
        ]);
        assert.equal(h.published.at(-1)?.Subject, "switchyard dev: rolled back");
    });

    it("rolls back a candidate whose error rate is above maxErrorRatePercent, with the numbers (--commit: one commit per step)", async () => {
        const h = await harness();
        const git = (...args: string[]) => execFileSync("git", args, { cwd: h.dir, encoding: "utf8" }).trim();
        git("init", "--quiet");
        git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "--allow-empty", "-m", "init");
        h.behaviour = { ...HEALTHY, errorPercent: { blue: 0.1, green: 5 } };
        const env = {
            GIT_AUTHOR_NAME: "t",
            GIT_AUTHOR_EMAIL: "t@example.com",
            GIT_COMMITTER_NAME: "t",
            GIT_COMMITTER_EMAIL: "t@example.com",
        };
        assert.equal(await run(h, { commit: true }, env), 1);
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 rollback.yaml"]);
        assert.deepEqual(h.err, [
            "rolled back at step 1/4 (canary 10): green error rate 5.00% over the bake (5 target 5xx and 0 connection errors of 100 requests) is above maxErrorRatePercent 1%",
        ]);
        assert.deepEqual(git("log", "--format=%s").split("\n"), ["switchyard(dev): rollback", "switchyard(dev): canary 10", "init"]);
        assert.equal(git("show", "--name-only", "--format=", "HEAD"), "Pulumi.dev.yaml");
    });

    it("rolls back a candidate whose tasks refuse connections (ALB-generated errors, no target 5xx)", async () => {
        const h = await harness();
        h.behaviour = { ...HEALTHY, errorPercent: { blue: 0.1, green: 0 }, connectionErrorPercent: { blue: 0, green: 8 } };
        assert.equal(await run(h), 1);
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 rollback.yaml"]);
        assert.deepEqual(h.err, [
            "rolled back at step 1/4 (canary 10): green error rate 8.00% over the bake (0 target 5xx and 8 connection errors of 100 requests) is above maxErrorRatePercent 1%",
        ]);
    });

    it("rolls back for one bad minute late in a bake that the bake's total dilutes, judged once the minute is complete", async () => {
        const h = await harness({
            steps: [{ canary: 50, bakeSeconds: 300 }, { flip: true }],
            analysis: { intervalSeconds: 30, minRequests: 50 },
        });
        const clean: Behaviour = { ...HEALTHY, errorPercent: { blue: 0, green: 0 } };
        const m0 = h.clock.t;
        h.behaviour = clean;
        let ticks = 0;
        h.onTick = () => {
            // Ticks 9 and 10 write the fifth minute (4:00-5:00 of the bake): green at 4 %.
            if (++ticks === 8) h.behaviour = { ...clean, errorPercent: { blue: 0, green: 4 } };
        };
        assert.equal(await run(h), 1, h.out.join("\n"));
        const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
        assert.deepEqual(h.err, [
            `rolled back at step 1/2 (canary 50): green error rate 4.00% in the minute ${hhmm(m0 + 4 * 60_000)}–${hhmm(m0 + 5 * 60_000)} UTC ` +
                "(40 target 5xx and 0 connection errors of 1000 requests) is above maxErrorRatePercent 1%",
        ]);
        // Over the bake the same poll saw 40 errors in 5000 requests: 0.8 %, under the limit.
        assert.match(
            h.out.filter((l) => l.startsWith("step 1/2")).at(-1)!,
            /^step 1\/2 \(canary 50\) 5:00\/5:00 · green 5000 req · errors 0\.80% vs 0\.00% · /,
        );
        // Each request ends at the last complete minute: at 4:30 that is 4:00 (the minute under way is not read yet).
        const at = (i: number) => [h.metricRequests[i].StartTime!.getTime() - m0, h.metricRequests[i].EndTime!.getTime() - m0];
        assert.deepEqual(
            [at(1), at(2), at(9), at(10)],
            [
                [0, 60_000],
                [0, 60_000],
                [0, 240_000],
                [0, 300_000],
            ],
        );
        assert.equal(h.metricRequests[10].MetricDataQueries!.find((q) => q.Id === "p99bake_green")!.MetricStat!.Period, 300);
    });

    it("reads only this service's alarms: another service's firing alarm (service web-green, web-api) neither rolls back nor is notified", async () => {
        const h = await harness({
            steps: [
                { canary: 10, bakeSeconds: 30 },
                { flip: true, bakeSeconds: 0 },
            ],
            analysis: { intervalSeconds: 30 },
        });
        const other = await new SNSClient({}).send(new CreateTopicCommand({ Name: "other-service-alarms" }));
        // Names that start with this service's prefixes: switchyard-dev-web-green- (green's) and switchyard-dev-web- (the service's).
        const colliding = [
            "switchyard-dev-web-green-blue-5xx",
            "switchyard-dev-web-api-green-5xx",
            "switchyard-dev-web-api-green-p99-latency",
        ];
        for (const name of colliding) {
            await putAlarm(h.writer, name, "HTTPCode_Target_5XX_Count", other.TopicArn!);
            await h.writer.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: "ALARM", StateReason: "not ours" }));
        }
        assert.equal(await run(h), 0, [...h.out, ...h.err].join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 flip.yaml"]);
        assert.ok(
            h.out.filter((l) => l.startsWith("step 1/2 (canary 10) ")).every((l) => l.endsWith(" · alarms ok (3)")),
            h.out.join("\n"),
        );
        assert.deepEqual([...new Set(h.published.map((p) => p.TopicArn))], [h.topicArn]);
    });

    it("alarmTopics reads every page of DescribeAlarms", async () => {
        const h = await harness();
        const second = await new SNSClient({}).send(new CreateTopicCommand({ Name: "second-page" }));
        // blue's p99 alarm now notifies a second topic.
        await putAlarm(h.writer, "switchyard-dev-web-blue-p99-latency", "TargetResponseTime", second.TopicArn!);
        // moto answers DescribeAlarms in one page; this client splits its answer in two, as CloudWatch may.
        const paged = new CloudWatchClient({});
        const tokens: (string | undefined)[] = [];
        paged.middlewareStack.add(
            (next) => async (args) => {
                const input = args.input as DescribeAlarmsCommandInput;
                tokens.push(input.NextToken);
                const result = await next({ ...args, input: { ...input, NextToken: undefined } });
                const output = result.output as DescribeAlarmsCommandOutput;
                const alarms = output.MetricAlarms ?? [];
                const page = input.NextToken ? alarms.slice(1) : alarms.slice(0, 1);
                return { ...result, output: { ...output, MetricAlarms: page, NextToken: input.NextToken ? undefined : "page-2" } };
            },
            { step: "initialize" },
        );
        const topics = await alarmTopics(paged, "dev", SERVICE);
        assert.deepEqual(tokens, [undefined, "page-2"]);
        assert.deepEqual(topics.sort(), [h.topicArn, second.TopicArn!].sort());
    });

    it("rolls back a slow candidate by its p99 against the live colour's (on a terminal: one live line)", async () => {
        const h = await harness();
        h.behaviour = { ...HEALTHY, latency: { blue: 0.1, green: 0.4 } };
        const screen: string[] = [];
        const code = await rolloutCommand(
            { stack: "dev", dir: h.dir, apply: "./record.sh" },
            { out: (l) => h.out.push(l), err: (l) => h.err.push(l), env: { ...process.env, LOG_DIR: h.logDir } },
            { clock: h.clock, cloudwatch: h.cloudwatch, sns: h.sns, live: (chunk) => screen.push(chunk) },
        );
        assert.equal(code, 1);
        assert.deepEqual(h.err, [
            "rolled back at step 1/4 (canary 10): green p99 0.400 s over the bake is 4.0x blue's 0.100 s; maxP99LatencyRatio is 1.5",
        ]);
        assert.deepEqual(fileTraffic(h), { live: "blue" });
        // Poll lines are redrawn in place (carriage return, clear line), ended by a newline before other output.
        assert.ok(
            screen.length >= 2 && screen.slice(0, -1).every((c) => c.startsWith("\r\x1b[2Kstep 1/4 (canary 10) ")),
            JSON.stringify(screen),
        );
        assert.equal(screen.at(-1), "\n");
        assert.ok(!h.out.some((l) => l.startsWith("step 1/4 (canary 10) ")), h.out.join("\n"));
    });

    it("resumes after SIGINT during a bake at the step the file is at, and a second run finishes", async () => {
        const h = await harness();
        let polls = 0;
        h.onTick = () => {
            // Interrupt in the middle of the canary 50 bake (its first tick, the third in all).
            if (++polls === 3) process.emit("SIGINT");
        };
        assert.equal(await run(h), 130);
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 canary 50.yaml"]);
        assert.deepEqual(fileTraffic(h), { live: "blue", canary: { percent: 50 } });
        assert.match(
            h.err.at(-1)!,
            /^interrupted at step 2\/4 \(canary 50\); Pulumi\.dev\.yaml says canary 50 and is consistent\. To continue: npm run switchyard -- rollout --stack dev/,
        );
        h.onTick = undefined;
        h.out.length = 0;
        assert.equal(await run(h), 0, h.err.join("\n"));
        assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 canary 50.yaml", "02 canary 50.yaml", "03 flip.yaml", "04 finish.yaml"]);
        assert.equal(h.out[0], "step 2/4 (canary 50): the stack file already says so; applying it again and baking it from the start");
        // And a third run has nothing to do.
        assert.equal(await run(h), 2);
        assert.match(h.err.at(-1)!, /nothing to roll out: blue is idle/);
    });

    describe("a candidate that is a build", () => {
        const OLD = DIGEST.replace(/a{64}$/, "0".repeat(64));
        /**
         * A stand-in pulumi whose `images` output is what the last apply pushed: OLD (an earlier
         * build) until this run applies the file, which "pushes" the candidate as NEW.
         */
        function withBuild(h: Harness, steps: unknown): NodeJS.ProcessEnv {
            const file = path.join(h.dir, "Pulumi.dev.yaml");
            fs.writeFileSync(file, stackText(steps).replace(/( {4}green:\n {6})image: .*\n/, "$1build: ./app\n"));
            const images = path.join(h.dir, "images.json");
            fs.writeFileSync(images, JSON.stringify({ blue: DIGEST, green: OLD }));
            const bin = path.join(h.dir, "bin");
            fs.mkdirSync(bin);
            fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\ncat "${images}"\n`, { mode: 0o755 });
            fs.writeFileSync(
                path.join(h.dir, "build-apply.sh"),
                `#!/bin/sh\n./record.sh || exit 1\nprintf '{"blue":"%s","green":"%s"}' "${DIGEST}" "${NEW}" > "${images}"\n`,
                { mode: 0o755 },
            );
            return { PATH: `${bin}:${process.env.PATH}` };
        }
        const greenIn = (h: Harness, file: string) =>
            parse(fs.readFileSync(path.join(h.logDir, file), "utf8")).config["switchyard:slots"].green;

        it("its flip pins the digest this run's apply pushed (read after the canary applied the build), not an older one", async () => {
            const h = await harness();
            const env = withBuild(h, STEPS);
            assert.equal(await run(h, { apply: "./build-apply.sh" }, env), 0, [...h.out, ...h.err].join("\n"));
            assert.deepEqual(applied(h), ["00 canary 10.yaml", "01 canary 50.yaml", "02 flip.yaml", "03 finish.yaml"]);
            assert.deepEqual(greenIn(h, "00 canary 10.yaml"), { build: "./app" });
            assert.deepEqual(greenIn(h, "02 flip.yaml"), { image: NEW });
        });

        it("with the flip first, applies the file before it, so the build is pushed and its digest known", async () => {
            const h = await harness();
            const env = withBuild(h, { steps: [{ flip: true, bakeSeconds: 60 }, { finish: true }] });
            assert.equal(await run(h, { apply: "./build-apply.sh" }, env), 0, [...h.out, ...h.err].join("\n"));
            assert.deepEqual(applied(h), ["00 build.yaml", "01 flip.yaml", "02 finish.yaml"]);
            assert.deepEqual(greenIn(h, "01 flip.yaml"), { image: NEW });
        });

        it("--digest must fit: refused (exit 2, nothing applied) when malformed or when the candidate is an image", async () => {
            const h = await harness();
            assert.equal(await run(h, { digest: NEW }), 2);
            assert.match(h.err.at(-1)!, /--digest pins a candidate build slot at the flip, but green \(the candidate\) is not a build/);
            const env = withBuild(h, STEPS);
            assert.equal(await run(h, { digest: "web:latest" }, env), 2);
            assert.match(h.err.at(-1)!, /--digest web:latest is not <repo>@sha256:<64 hex>$/);
            assert.deepEqual(applied(h), []);
        });
    });

    it("refuses without a candidate (exit 2), nothing changed", async () => {
        const h = await harness();
        const file = path.join(h.dir, "Pulumi.dev.yaml");
        const text = fs.readFileSync(file, "utf8").replace(/ {4}green:\n {6}image: .*\n/, "");
        fs.writeFileSync(file, text);
        assert.equal(await run(h), 2);
        assert.equal(fs.readFileSync(file, "utf8"), text);
        assert.deepEqual(applied(h), []);
        assert.match(h.err[0], /^switchyard: rollout refused, nothing changed: no candidate: green \(the candidate slot\) is empty/);
        fs.writeFileSync(file, stackText(STEPS));
        assert.equal(await run(h, { commit: true }), 2);
        assert.match(h.err[1], /--commit needs a git checkout, but .* is not inside one/);
        assert.deepEqual(applied(h), []);
    });

    it("measures the time from an alarm turning ALARM to the rollback edit written (real clock, --interval-seconds 1)", async function () {
        const h = await harness({ steps: [{ canary: 10, bakeSeconds: 30 }, { flip: true }], analysis: { intervalSeconds: 30 } });
        const file = path.join(h.dir, "Pulumi.dev.yaml");
        let firedAt = 0;
        let rolledBackAt = 0;
        const watcher = setInterval(() => {
            if (!rolledBackAt && firedAt && !parse(fs.readFileSync(file, "utf8")).config["switchyard:traffic"].canary)
                rolledBackAt = Date.now();
        }, 5);
        const timer = setTimeout(async () => {
            await new CloudWatchClient({}).send(
                new SetAlarmStateCommand({
                    AlarmName: "switchyard-dev-web-green-p99-latency",
                    StateValue: "ALARM",
                    StateReason: "p99 above 2 s",
                }),
            );
            firedAt = Date.now();
        }, 500);
        const code = await rolloutCommand(
            { stack: "dev", dir: h.dir, apply: "./record.sh", intervalSeconds: 1 },
            { out: (l) => h.out.push(l), err: (l) => h.err.push(l), env: { ...process.env, LOG_DIR: h.logDir } },
            { cloudwatch: h.cloudwatch, sns: h.sns },
        );
        clearInterval(watcher);
        clearTimeout(timer);
        assert.equal(code, 1, h.err.join("\n"));
        assert.ok(firedAt > 0 && rolledBackAt > firedAt);
        const ms = rolledBackAt - firedAt;
        // Invariant 11: within one analysis interval (1 s here) plus the poll itself.
        assert.ok(ms <= 1500, `alarm to rollback edit: ${ms} ms`);
        console.log(`      alarm ALARM -> rollback edit written: ${ms} ms (interval 1 s)`);
    });
});
