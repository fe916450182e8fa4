/**
 * The health gate resource: where it sits in the dependency graph, its exact inputs, when its
 * provider asks for an update, and that its serialised provider runs the gate in a plain Node
 * process (as Pulumi's dynamic-provider host does) against moto.
 */
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { execFile } from "node:child_process";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { HealthGate } from "../../components/healthGate";
import { alarmGatedColors, HealthGateInputs, healthGateProvider } from "../../components/healthGateProvider";
import { baseRaw, digest, stackConfig } from "../helpers/configs";
import { Recorded, registered, settle } from "../helpers/mocks";
import { queryApi, useMoto, xmlValues } from "../helpers/moto";
import { evaluate, one, ROOT, stackFileConfig } from "../helpers/program";

const GATE = "pulumi-nodejs:dynamic:Resource";
const LISTENER = "aws:lb/listener:Listener";
const alarms = (stack: string, color: string) =>
    ["5xx", "unhealthy-hosts", "p99-latency"].map((a) => `switchyard-${stack}-web-${color}-${a}`);
const tgArn = (color: string) => `arn:aws:lb:eu-west-1:123456789012:web-${color}-tg`;

/** Blue live on A, green on B with a 10 % canary and a header route to green. */
function canaryRaw(): Record<string, any> {
    const raw = baseRaw();
    raw.slots.green = { image: digest("b") };
    raw.traffic.canary = { percent: 10 };
    raw.traffic.routes = [{ color: "green", header: { name: "x-beta", values: ["alice"] } }];
    return raw;
}

/** The gate's inputs without the serialised provider. */
function gateInputs(resources: Recorded[]): Record<string, unknown> {
    const { __provider, ...inputs } = one(resources, GATE, "web-gate").inputs;
    assert.equal(typeof __provider, "string");
    return inputs;
}

describe("HealthGate", () => {
    let dev: Recorded[];
    before(async () => {
        dev = (await evaluate("dev", stackFileConfig("dev"))).resources;
    });

    describe("in the committed dev stack", () => {
        let resources: Recorded[];
        before(() => (resources = dev));

        it("gates green, the only colour with traffic, with the stack's settings", () => {
            assert.deepEqual(gateInputs(resources), {
                region: "eu-west-1",
                colors: [
                    {
                        color: "green",
                        targetGroupArn: tgArn("green"),
                        minHealthy: 1,
                        alarmNames: alarms("dev", "green"),
                        image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-image-repo@sha256:" + "d".repeat(64),
                    },
                ],
                weights: { blue: 0, green: 100 },
                timeoutSeconds: 600,
                live: "green",
            });
        });

        it("waits for green's service and alarms; the production listener waits for it; the test listener does not", () => {
            const gate = one(resources, GATE, "web-gate");
            const urn = (type: string, name: string) => one(resources, type, name).urn;
            assert.ok(gate.dependencies.includes(urn("aws:ecs/service:Service", "web-green-svc")));
            for (const alarm of ["5xx", "unhealthy-hosts", "p99-latency"]) {
                assert.ok(gate.dependencies.includes(urn("aws:cloudwatch/metricAlarm:MetricAlarm", `web-monitoring-green-${alarm}`)));
            }
            assert.ok(one(resources, LISTENER, "web-prod-listener").dependencies.includes(gate.urn));
            assert.ok(!one(resources, LISTENER, "web-test-listener").dependencies.includes(gate.urn));
        });
    });

    describe("during a canary with a route", () => {
        let resources: Recorded[];
        before(async () => {
            resources = (await evaluate("dev", stackConfig(canaryRaw()))).resources;
        });

        it("gates both colours, each with its image, target group and alarms", () => {
            const color = (c: string, image: string) => ({
                color: c,
                targetGroupArn: tgArn(c),
                minHealthy: 2,
                alarmNames: alarms("dev", c),
                image,
            });
            assert.deepEqual(gateInputs(resources), {
                region: "eu-west-1",
                colors: [color("blue", digest("a")), color("green", digest("b"))],
                weights: { blue: 90, green: 10 },
                timeoutSeconds: 600,
                live: "blue",
            });
        });

        it("sits between both services and the production listener and every route rule", () => {
            const gate = one(resources, GATE, "web-gate");
            for (const c of ["blue", "green"]) {
                assert.ok(gate.dependencies.includes(one(resources, "aws:ecs/service:Service", `web-${c}-svc`).urn), `gate waits for ${c}`);
            }
            const rules = resources.filter((r) => r.type === "aws:lb/listenerRule:ListenerRule");
            assert.equal(rules.length, 1);
            for (const r of [one(resources, LISTENER, "web-prod-listener"), ...rules]) {
                assert.ok(r.dependencies.includes(gate.urn), `${r.name} depends on the gate`);
            }
            assert.ok(!one(resources, LISTENER, "web-test-listener").dependencies.includes(gate.urn));
        });
    });

    it("is not created with the rolling strategy (the ECS circuit breaker guards releases)", async () => {
        const raw = baseRaw();
        raw.strategy = "rolling";
        delete raw.testAccess;
        const { resources } = await evaluate("dev", stackConfig(raw));
        assert.deepEqual(
            resources.filter((r) => r.type === GATE),
            [],
        );
        assert.ok(one(resources, LISTENER, "web-prod-listener"));
    });

    describe("probe", () => {
        const gate = (name: string, probeColor: "blue" | "green") =>
            new HealthGate(name, {
                colors: [{ color: "blue", targetGroupArn: tgArn("blue"), minHealthy: 0, alarmNames: [], image: digest("a") }],
                weights: { blue: 100, green: 0 },
                timeoutSeconds: 60,
                region: "eu-west-1",
                probe: { url: "http://alb:9000/healthz", color: probeColor },
            });

        it("is wired from service.gateProbePath through the test URL, and only during a canary or a route to the candidate", async () => {
            const raw = baseRaw();
            raw.service.gateProbePath = "/version";
            raw.slots.green = { image: digest("b") };
            const steady = one((await evaluate("dev", stackConfig(raw))).resources, "pulumi-nodejs:dynamic:Resource", "web-gate");
            assert.equal("probeUrl" in steady.inputs, false, "green (the test listener's colour) gets no traffic yet");
            raw.traffic.canary = { percent: 5 };
            const canary = one((await evaluate("dev", stackConfig(raw))).resources, "pulumi-nodejs:dynamic:Resource", "web-gate");
            assert.equal(canary.inputs.probeUrl, "http://web-alb-123.eu-west-1.elb.amazonaws.com:9000/version");
        });

        it("requests the test listener only when the colour it serves is about to get traffic", async () => {
            gate("probing", "blue");
            gate("not-probing", "green");
            await settle();
            const byName = (n: string) => registered().find((r) => r.name === n)!.inputs;
            assert.equal(byName("probing").probeUrl, "http://alb:9000/healthz");
            assert.equal("probeUrl" in byName("not-probing"), false);
            // minHealthy is at least 1 whatever the caller passes
            assert.equal(byName("probing").colors[0].minHealthy, 1);
        });
    });

    describe("warm gate (a colour that autoscales ignores desiredCount changes)", () => {
        it("makes the update that releases into an idle colour wait for its tasks, after its scaling target raised the count", async () => {
            const raw = baseRaw();
            raw.service = { ...raw.service, minHealthyTargets: 2, autoscaling: { min: 2, max: 6, cpuPercent: 60 } };
            raw.slots.green = { image: digest("b") }; // was { image: A', idle: true } before `start`
            const { resources } = await evaluate("dev", stackConfig(raw));
            const warm = one(resources, GATE, "web-green-warm");
            const { __provider, ...inputs } = warm.inputs;
            assert.equal(typeof __provider, "string");
            assert.deepEqual(inputs, {
                region: "eu-west-1",
                colors: [{ color: "green", targetGroupArn: tgArn("green"), minHealthy: 2, alarmNames: [], image: digest("b") }],
                weights: {},
                timeoutSeconds: 600,
            });
            for (const dep of ["aws:ecs/service:Service::web-green-svc", "aws:appautoscaling/target:Target::web-green-scaling"]) {
                const [type, name] = dep.split("::");
                assert.ok(warm.dependencies.includes(one(resources, type, name).urn), `the warm gate waits for ${name}`);
            }
            assert.ok(
                !one(resources, LISTENER, "web-prod-listener").dependencies.includes(warm.urn),
                "production does not wait for the candidate",
            );
        });

        it("is absent without autoscaling (desiredCount applies and the service waits for steady state) and for an idle colour", async () => {
            const raw = baseRaw();
            raw.slots.green = { image: digest("b") };
            assert.equal((await evaluate("dev", stackConfig(raw))).resources.filter((r) => r.name.endsWith("-warm")).length, 0);
            raw.service.autoscaling = { min: 2, max: 6, cpuPercent: 60 };
            raw.slots.green.idle = true;
            const names = (await evaluate("dev", stackConfig(raw))).resources.filter((r) => r.name.endsWith("-warm")).map((r) => r.name);
            assert.deepEqual(names, ["web-blue-warm"]);
        });

        it("refuses minHealthyTargets above autoscaling.min: a colour warmed from idle runs only min tasks", async () => {
            const raw = baseRaw();
            raw.service = { ...raw.service, desiredCount: 4, minHealthyTargets: 3, autoscaling: { min: 2, max: 6, cpuPercent: 60 } };
            await assert.rejects(
                evaluate("dev", stackConfig(raw)),
                /switchyard:service\.minHealthyTargets \(3\) must not exceed switchyard:service\.autoscaling\.min \(2\)/,
            );
        });
    });

    describe("provider diff", () => {
        const base: HealthGateInputs = {
            region: "eu-west-1",
            colors: [
                { color: "blue", targetGroupArn: tgArn("blue"), minHealthy: 2, alarmNames: alarms("dev", "blue"), image: digest("a") },
                { color: "green", targetGroupArn: tgArn("green"), minHealthy: 2, alarmNames: alarms("dev", "green"), image: digest("b") },
            ],
            weights: { blue: 90, green: 10 },
            timeoutSeconds: 600,
        };
        const changes = async (edit: (n: any) => void) => {
            const news = structuredClone(base) as any;
            edit(news);
            return (await healthGateProvider.diff!("id", structuredClone(base), news)).changes;
        };

        it("reports no change when only what the gate checks, not what triggers it, changes", async () => {
            assert.equal(await changes(() => undefined), false);
            assert.equal(await changes((n) => (n.timeoutSeconds = 900)), false);
            assert.equal(await changes((n) => (n.region = "us-east-1")), false);
            assert.equal(await changes((n) => (n.probeUrl = "http://alb:9000/healthz")), false);
            assert.equal(await changes((n) => (n.colors[0].minHealthy = 3)), false);
            assert.equal(await changes((n) => (n.colors[1].alarmNames = ["other"])), false);
            assert.equal(await changes((n) => (n.colors[1].targetGroupArn = "arn:other")), false);
            assert.equal(await changes((n) => (n.weights = { green: 10, blue: 90 })), false, "key order is not a change");
            assert.equal(await changes((n) => n.colors.reverse()), false, "colour order is not a change");
        });

        it("reports a change when the weights change", async () => {
            assert.equal(await changes((n) => (n.weights = { blue: 75, green: 25 })), true);
            assert.equal(await changes((n) => (n.weights = { blue: 0, green: 100 })), true);
        });

        it("reports a change when a colour's image changes", async () => {
            assert.equal(await changes((n) => (n.colors[1].image = digest("c"))), true);
        });

        it("reports a change when a colour gains or loses traffic", async () => {
            const blueOnly = { ...structuredClone(base), colors: [base.colors[0]] };
            // A route to green adds it to the gate while the weights stay the same.
            assert.equal((await healthGateProvider.diff!("id", { ...blueOnly, weights: base.weights }, base)).changes, true);
            assert.equal((await healthGateProvider.diff!("id", base, { ...blueOnly, weights: base.weights })).changes, true);
        });
    });

    describe("whose alarms block", () => {
        const gated = (
            weights: Record<string, number>,
            colors: string[],
            lastSafe: { live?: string; previous?: string } = { live: "blue" },
        ): HealthGateInputs => ({
            region: "eu-west-1",
            colors: colors.map((color) => ({ color, targetGroupArn: tgArn(color), minHealthy: 1, alarmNames: [], image: digest("a") })),
            weights,
            timeoutSeconds: 60,
            ...lastSafe,
        });

        it("every colour on create", () => {
            assert.deepEqual(alarmGatedColors(undefined, gated({ blue: 90, green: 10 }, ["blue", "green"])), ["blue", "green"]);
        });
        it("the candidate whose weight grows: a canary step checks green", () => {
            const before = gated({ blue: 90, green: 10 }, ["blue", "green"]);
            assert.deepEqual(alarmGatedColors(before, gated({ blue: 75, green: 25 }, ["blue", "green"])), ["green"]);
        });
        it("a colour that a new route adds, at unchanged weights", () => {
            const before = gated({ blue: 100, green: 0 }, ["blue"]);
            assert.deepEqual(alarmGatedColors(before, gated({ blue: 100, green: 0 }, ["blue", "green"])), ["green"]);
        });
        it("a flip checks the colour becoming live", () => {
            const before = gated({ blue: 90, green: 10 }, ["blue", "green"]);
            assert.deepEqual(alarmGatedColors(before, gated({ blue: 0, green: 100 }, ["green"], { live: "green", previous: "blue" })), [
                "green",
            ]);
        });
        // Invariant 14: a bad 10 % canary can fire the live colour's alarms (a shared database
        // under its load); checking them made the canary's rollback wait and fail, leaving 10 %
        // on the bad build.
        it("no colour when a canary is rolled back: live 90 → 100 gets its own traffic back", () => {
            const before = gated({ blue: 90, green: 10 }, ["blue", "green"]);
            assert.deepEqual(alarmGatedColors(before, gated({ blue: 100, green: 0 }, ["blue"])), []);
        });
        it("no colour when a flip is rolled back: the colour it left (previous) becomes live again", () => {
            const flipped = gated({ blue: 0, green: 100 }, ["green"], { live: "green", previous: "blue" });
            assert.deepEqual(alarmGatedColors(flipped, gated({ blue: 100, green: 0 }, ["blue"], { live: "blue" })), []);
        });
        // finish clears previous and re-runs the gate (previous is in its trigger), so a new build in
        // that colour is never mistaken for the rollback target: its flip is checked.
        it("a new release flipped into the colour a finished flip left is checked", () => {
            const finished = gated({ blue: 0, green: 100 }, ["green"], { live: "green" });
            assert.deepEqual(alarmGatedColors(finished, gated({ blue: 100, green: 0 }, ["blue"], { live: "blue" })), ["blue"]);
            const canary = gated({ blue: 10, green: 90 }, ["blue", "green"], { live: "green" });
            assert.deepEqual(alarmGatedColors(finished, canary), ["blue"]);
        });
        it("re-runs when previous changes (finish), so the stored state never keeps a stale rollback target", async () => {
            const flipped = gated({ blue: 0, green: 100 }, ["green"], { live: "green", previous: "blue" });
            const finished = gated({ blue: 0, green: 100 }, ["green"], { live: "green" });
            assert.equal((await healthGateProvider.diff!("id", flipped, finished)).changes, true);
            assert.equal((await healthGateProvider.diff!("id", finished, structuredClone(finished))).changes, false);
        });
        it("a gate stored before live was recorded: the heaviest colour counts as live", () => {
            const before = gated({ blue: 90, green: 10 }, ["blue", "green"], {});
            assert.deepEqual(alarmGatedColors(before, gated({ blue: 100, green: 0 }, ["blue"])), []);
            assert.deepEqual(alarmGatedColors(before, gated({ blue: 0, green: 100 }, ["green"], { live: "green" })), ["green"]);
        });
        it("stores live and previous from the stack's traffic in the gate's inputs", async () => {
            const raw = baseRaw();
            raw.slots.green = { image: digest("b") };
            raw.traffic = { live: "green", previous: "blue" };
            const gate = one((await evaluate("dev", stackConfig(raw))).resources, GATE, "web-gate");
            assert.deepEqual([gate.inputs.live, gate.inputs.previous], ["green", "blue"]);
        });
    });

    describe("serialised provider in a plain Node process (as Pulumi's dynamic-provider host runs it), against moto", function () {
        this.timeout(20000);
        const moto = useMoto();
        let provider: string;
        let workdir: string;
        before(() => {
            provider = one(dev, GATE, "web-gate").inputs.__provider;
            workdir = mkdtempSync(path.join(tmpdir(), "switchyard-gate-"));
        });
        after(() => rmSync(workdir, { recursive: true, force: true }));

        /**
         * Loads the provider text the way the host does (require-from-string, cwd = the project,
         * no ts-node) and calls create once per input, in order.
         */
        function createInChild(...inputs: HealthGateInputs[]): Promise<{ outs?: any; error?: string }[]> {
            const providerFile = path.join(workdir, "provider.js");
            writeFileSync(providerFile, provider);
            const script = `
                const requireFromString = require(require.resolve("require-from-string", { paths: [${JSON.stringify(path.join(ROOT, "node_modules/@pulumi/pulumi"))}] }));
                const provider = requireFromString(require("fs").readFileSync(process.argv[1], "utf8")).handler();
                (async () => {
                    const results = [];
                    for (const inputs of JSON.parse(process.argv[2])) {
                        results.push(await provider.create(inputs).then((r) => ({ outs: r.outs }), (e) => ({ error: e.message })));
                    }
                    console.log(JSON.stringify(results));
                })();`;
            return new Promise((resolve, reject) => {
                execFile(
                    process.execPath,
                    ["-e", script, providerFile, JSON.stringify(inputs)],
                    { cwd: ROOT, env: process.env },
                    (err, stdout, stderr) =>
                        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split("\n").pop()!)),
                );
            });
        }

        async function targetGroup(name: string, vpcId: string, instanceIds: string[]): Promise<string> {
            const elb = new ElasticLoadBalancingV2Client({});
            const tg = await elb.send(
                new CreateTargetGroupCommand({ Name: name, Protocol: "HTTP", Port: 8080, VpcId: vpcId, TargetType: "instance" }),
            );
            const arn = tg.TargetGroups![0].TargetGroupArn!;
            if (instanceIds.length)
                await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: instanceIds.map((Id) => ({ Id })) }));
            return arn;
        }

        it("passes when the colour has enough healthy targets, and fails with the gate's message when not", async () => {
            const vpcId = xmlValues(await queryApi(moto.endpoint, "ec2", { Action: "CreateVpc", CidrBlock: "10.0.0.0/16" }), "vpcId")[0];
            const run = await queryApi(moto.endpoint, "ec2", {
                Action: "RunInstances",
                ImageId: "ami-12c6146b",
                MinCount: "1",
                MaxCount: "1",
            });
            const healthy = await targetGroup("green", vpcId, xmlValues(run, "instanceId"));
            const empty = await targetGroup("blue", vpcId, []);
            const inputs = (color: string, arn: string): HealthGateInputs => ({
                region: "eu-west-1",
                colors: [{ color, targetGroupArn: arn, minHealthy: 1, alarmNames: [], image: digest("a") }],
                weights: { blue: 0, green: 100 },
                timeoutSeconds: 1,
            });

            const [passed, failed] = await createInChild(inputs("green", healthy), inputs("blue", empty));
            assert.equal(passed.error, undefined);
            assert.deepEqual(passed.outs.passed.colors, [{ color: "green", healthy: 1, required: 1, total: 1 }]);
            assert.deepEqual(passed.outs.weights, { blue: 0, green: 100 });
            assert.equal(failed.error, "health gate: blue has 0 of 1 healthy targets after 1 s (no targets registered)");
        });
    });
});
