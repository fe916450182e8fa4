/**
 * AWS's API models as a test (issue 14): every resource that every tested stack registers becomes
 * the API requests the Pulumi AWS provider would send (test/reality/apiRequests.ts), and each
 * request is checked against botocore's service-2.json model of that API (members, types,
 * lengths, patterns, enums, ranges) and against the limits the model's documentation states.
 * Stacks: the committed ones, test/helpers/configs.ts's base stack, the generated stacks of
 * test/reality/scenarios.ts, and the stacks at the limits below (largest and smallest values).
 */
import { strict as assert } from "node:assert";
import { parseConfig, rawFromPulumiConfig } from "../../lib/config";
import { FARGATE_MEMORY } from "../../lib/parse/service";
import { ConfigError } from "../../lib/problems";
import { Recorded } from "../helpers/mocks";
import { baseRaw, digest, stackConfig } from "../helpers/configs";
import { evaluate, flatten } from "../helpers/program";
import { apiModel, memberDocs, validateRequest, Violation } from "./apiModels";
import { ApiRequest, DOCUMENTED_RULES, MAPPINGS, documentedProblems, fargateTableFromDocs, requestsOf } from "./apiRequests";
import { Scenario, evaluatedScenarios } from "./scenarios";

/** Stacks at the config model's limits: the largest and the smallest value of every key. */
function limitScenarios(): Scenario[] {
    const path = (n: number) => `/${"p".repeat(n - 1)}`;
    const largest = {
        service: {
            name: "abcdefghijklmno",
            port: 65535,
            healthCheckPath: path(1024),
            cpu: 16384,
            memory: 122880,
            desiredCount: 1000,
            idleCount: 1000,
            minHealthyTargets: 1000,
            gateTimeoutSeconds: 3600,
            gateProbePath: path(1024),
            deploymentMinimumHealthyPercent: 100,
            deploymentMaximumPercent: 200,
            stopTimeoutSeconds: 120,
            deregistrationDelaySeconds: 3600,
            autoscaling: { min: 1000, max: 1000, requestsPerTarget: 1000000 },
        },
        slots: { blue: { image: digest("a"), schema: [0, 1000000] }, green: { image: digest("b"), schema: { min: 0, max: 1000000 } } },
        traffic: {
            live: "blue",
            canary: { percent: 99, stickiness: 604800 },
            routes: Array.from({ length: 100 }, (_, i) => ({
                color: i % 2 ? "green" : "blue",
                priority: 50000 - i,
                hosts: [`${"h".repeat(100)}${i}.example.com`],
            })),
        },
        testAccess: { cidrs: ["203.0.113.0/24", "198.51.100.0/24", "2001:db8::/32"], port: 65535 },
        database: { schema: 1000000 },
        alarms: {
            http5xxThreshold: 1000000,
            unhealthyHostsThreshold: 1000,
            p99LatencySeconds: 60,
            evaluationPeriods: 100,
            emails: Array.from({ length: 10 }, (_, i) => `oncall${i}@example.com`),
        },
        registry: { keepImages: 1000 },
    };
    const smallest = {
        service: {
            name: "a",
            port: 1,
            healthCheckPath: "/",
            cpu: 256,
            memory: 512,
            desiredCount: 1,
            minHealthyTargets: 1,
            gateTimeoutSeconds: 1,
            deploymentMinimumHealthyPercent: 0,
            deploymentMaximumPercent: 100,
            stopTimeoutSeconds: 2,
            deregistrationDelaySeconds: 0,
            autoscaling: { min: 1, max: 1, cpuPercent: 10 },
        },
        slots: { blue: { image: digest("a") }, green: { build: "./app" } },
        traffic: { live: "green", canary: { percent: 1, stickiness: 1 } },
        testAccess: { cidrs: [], port: 1 },
        alarms: { http5xxThreshold: 1, unhealthyHostsThreshold: 1, p99LatencySeconds: 0.001, evaluationPeriods: 1 },
        registry: { keepImages: 1 },
    };
    const scenarios = [
        { title: "base stack (test/helpers/configs.ts)", stack: "dev", config: stackConfig(baseRaw()) },
        { title: "largest values", stack: "prod", config: stackConfig(largest) },
        { title: "smallest values", stack: "dev", config: stackConfig(smallest) },
    ];
    for (const s of scenarios) parseConfig(rawFromPulumiConfig(flatten(s.config)), s.stack);
    return scenarios;
}

interface Checked {
    readonly title: string;
    readonly resources: Recorded[];
}

let checked: Promise<Checked[]> | undefined;
function allStacks(): Promise<Checked[]> {
    checked ??= (async () => {
        const out: Checked[] = (await evaluatedScenarios()).map((s) => ({ title: s.title, resources: s.evaluation.resources }));
        for (const s of limitScenarios()) out.push({ title: s.title, resources: (await evaluate(s.stack, s.config)).resources });
        return out;
    })();
    return checked;
}

/** Every way the requests of these resources break their API models. */
function violations(resources: Recorded[]): string[] {
    return resources
        .filter((r) => r.custom)
        .flatMap((r) =>
            requestsOf(r).flatMap((req) =>
                [...validateRequest(apiModel(req.service), req.operation, req.input), ...documentedProblems(req)].map(
                    (v: Violation) => `${r.type} ${r.name}: ${v.at} ${v.problem}`,
                ),
            ),
        );
}

/** The top-level inputs a mapping reads (a Proxy records them). */
function inputsRead(r: Recorded): Set<string> {
    const read = new Set<string>();
    const inputs = new Proxy(r.inputs, {
        get(target, key) {
            if (typeof key === "string") read.add(key);
            return target[key as string];
        },
    });
    requestsOf({ ...r, inputs });
    return read;
}

function requestOf(resources: Recorded[], type: string, operation: string): { resource: Recorded; request: ApiRequest } {
    for (const resource of resources.filter((r) => r.type === type)) {
        const request = requestsOf(resource).find((q) => q.operation === operation);
        if (request) return { resource, request };
    }
    throw new Error(`no ${type} makes a ${operation} request`);
}

const problemsOf = (req: ApiRequest) =>
    [...validateRequest(apiModel(req.service), req.operation, req.input), ...documentedProblems(req)].map((v) => `${v.at} ${v.problem}`);

describe("reality: AWS's API models (botocore service-2.json)", () => {
    before(async function () {
        this.timeout(120000);
        apiModel("elbv2"); // fails here, with one line, without Python and botocore
        await allStacks();
    });

    it("knows the requests of every resource type every tested stack registers", async () => {
        const types = new Set((await allStacks()).flatMap((s) => s.resources.filter((r) => r.custom).map((r) => r.type)));
        assert.deepEqual(
            [...types].filter((t) => MAPPINGS[t] === undefined),
            [],
        );
    });

    it("maps every input of every registered resource to a request (or names it as the provider's own)", async () => {
        const unmapped = new Set<string>();
        for (const s of await allStacks()) {
            for (const r of s.resources.filter((x) => x.custom && MAPPINGS[x.type] !== "not an AWS request")) {
                const mapping = MAPPINGS[r.type];
                const own = typeof mapping === "object" ? (mapping.providerOnly ?? []) : [];
                const read = inputsRead(r);
                for (const [k, v] of Object.entries(r.inputs)) {
                    if (v !== undefined && !read.has(k) && !own.includes(k)) unmapped.add(`${r.type}.${k}`);
                }
            }
        }
        assert.deepEqual([...unmapped], []);
    });

    it("every request of every tested stack, at the limits too, fits its API model and the limits its documentation states", async () => {
        const stacks = await allStacks();
        assert.ok(stacks.length >= 10, `only ${stacks.length} stacks`);
        const found = stacks.flatMap((s) => violations(s.resources).map((v) => `${s.title}: ${v}`));
        assert.deepEqual(found, []);
    });

    it("every documented rule quotes the model's documentation as installed", () => {
        for (const rule of DOCUMENTED_RULES) {
            const docs = memberDocs(apiModel(rule.service), rule.structure, rule.member);
            assert.ok(
                docs.includes(rule.quote),
                `${rule.service} ${rule.structure}.${rule.member} no longer says:\n  ${rule.quote}\nit says:\n  ${docs}`,
            );
        }
    });

    // The config model's table (lib/parse/service.ts) must be the one in RegisterTaskDefinition's
    // `memory` documentation; the ECS developer guide prints the same table:
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size
    it("the config model's Fargate cpu/memory table is the ECS model's", () => {
        const docs = fargateTableFromDocs(apiModel("ecs"));
        assert.deepEqual([...docs.keys()], [256, 512, 1024, 2048, 4096, 8192, 16384]);
        assert.deepEqual(docs.get(256), [512, 1024, 2048]);
        assert.deepEqual(Object.fromEntries(docs), Object.fromEntries(Object.entries(FARGATE_MEMORY).map(([cpu, m]) => [cpu, [...m]])));
    });

    describe("catches each value of issue 14, item 11 that AWS rejects", () => {
        const refused = (change: (raw: Record<string, any>) => void, key: string) => {
            const raw = baseRaw();
            change(raw);
            assert.throws(
                () => parseConfig(raw, "dev"),
                (e: unknown) => e instanceof ConfigError && e.problems.some((p) => p.startsWith(key)),
            );
        };
        const stack = async () => (await allStacks()).find((s) => s.title.startsWith("base stack"))!.resources;

        it("cpu 256 with memory 1536: refused by the config model, and RegisterTaskDefinition's documentation refuses it", async () => {
            refused((r) => Object.assign(r.service, { cpu: 256, memory: 1536 }), "switchyard:service.memory 1536 does not fit");
            const { request } = requestOf(await stack(), "aws:ecs/taskDefinition:TaskDefinition", "RegisterTaskDefinition");
            assert.deepEqual(problemsOf({ ...request, input: { ...request.input, cpu: "256", memory: "1536" } }), [
                "RegisterTaskDefinition (RegisterTaskDefinitionRequest.memory documentation) cpu 256 with memory 1536 is not a Fargate size",
            ]);
        });

        it("service.name internal: refused by the config model, and CreateLoadBalancer's documentation refuses its name", async () => {
            refused((r) => (r.service.name = "internal"), "switchyard:service.name 'internal' would give the load balancer");
            const { request } = requestOf(await stack(), "aws:lb/loadBalancer:LoadBalancer", "CreateLoadBalancer");
            assert.deepEqual(problemsOf({ ...request, input: { ...request.input, Name: "internal-alb-1a2b3c4" } }), [
                `CreateLoadBalancer (CreateLoadBalancerInput.Name documentation) Name 'internal-alb-1a2b3c4' breaks "1-32 alphanumerics or hyphens, not at either end, not starting with internal-"`,
            ]);
        });

        it("service.name sg: refused by the config model, and CreateSecurityGroup's documentation refuses its name", async () => {
            refused((r) => (r.service.name = "sg"), "switchyard:service.name 'sg' would give the security group");
            const { request } = requestOf(await stack(), "aws:ec2/securityGroup:SecurityGroup", "CreateSecurityGroup");
            assert.deepEqual(problemsOf({ ...request, input: { ...request.input, GroupName: "sg-alb-1a2b3c4" } }), [
                `CreateSecurityGroup (CreateSecurityGroupRequest.GroupName documentation) GroupName 'sg-alb-1a2b3c4' breaks "up to 255 valid characters, not starting with sg-"`,
            ]);
        });

        it("a route host with _: refused by the config model, and CreateRule's documentation refuses it", async () => {
            refused(
                (r) => (r.traffic.routes = [{ color: "blue", hosts: ["my_app.example.com"] }]),
                "switchyard:traffic.routes[0].hosts[0] must be",
            );
            const raw = baseRaw();
            raw.traffic.routes = [{ color: "blue", hosts: ["myapp.example.com"] }];
            const resources = (await evaluate("dev", stackConfig(raw))).resources;
            const { request } = requestOf(resources, "aws:lb/listenerRule:ListenerRule", "CreateRule");
            const conditions = [{ Field: "host-header", HostHeaderConfig: { Values: ["my_app.example.com"] } }];
            assert.deepEqual(problemsOf({ ...request, input: { ...request.input, Conditions: conditions } }), [
                `CreateRule (RuleCondition.Values documentation) host-header value 'my_app.example.com' breaks "up to 128 characters of A-Z, a-z, 0-9, - . * ?"`,
            ]);
        });

        it("the shape check itself: a port out of range, an unknown protocol, a name of 33 characters", async () => {
            const { request } = requestOf(await stack(), "aws:lb/targetGroup:TargetGroup", "CreateTargetGroup");
            assert.deepEqual(problemsOf({ ...request, input: { ...request.input, Name: "a".repeat(33), Port: 0, Protocol: "HTTP3" } }), [
                "CreateTargetGroup.Protocol 'HTTP3' is not one of HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC",
                "CreateTargetGroup.Port has 0, at least 1 allowed",
                `CreateTargetGroup (CreateTargetGroupInput.Name documentation) Name '${"a".repeat(33)}' breaks "1-32 alphanumerics or hyphens, not at either end"`,
            ]);
        });
    });
});
