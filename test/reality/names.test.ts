/**
 * Physical names: every auto-named resource of every tested stack (including generated ones with
 * a service name of the maximum length) fits its AWS limit once the provider appends "-" and 7
 * random characters (pulumi-terraform-bridge `AutoName`, Randlen 7; limits in
 * lib/parse/names.ts, each with its API reference), and explicit names fit theirs.
 */
import { strict as assert } from "node:assert";
import { parseConfig } from "../../lib/config";
import { AUTO_NAME_LIMITS, AUTO_NAME_SUFFIX_LENGTH, SERVICE_NAME_MAX_LENGTH } from "../../lib/parse/names";
import { ConfigError } from "../../lib/problems";
import { baseRaw } from "../helpers/configs";
import { evaluatedScenarios } from "./scenarios";

/** Resource types whose physical name the program sets, with the property and the AWS limit. */
const EXPLICIT_NAMES: Readonly<Record<string, { property: string; limit: number; source: string }>> = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        property: "name",
        limit: 255,
        source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
    },
    "aws:cloudwatch/dashboard:Dashboard": {
        property: "dashboardName",
        limit: 255,
        source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
    },
    "aws:ecs/taskDefinition:TaskDefinition": {
        property: "family",
        limit: 255,
        source: "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html",
    },
};

/** Types with no physical name of their own (ids and ARNs are assigned by AWS). */
const UNNAMED = new Set([
    "aws:lb/listener:Listener",
    "aws:lb/listenerRule:ListenerRule",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:sns/topicSubscription:TopicSubscription",
    "aws:appautoscaling/target:Target",
    "docker:index/image:Image",
    "random:index/randomId:RandomId",
    "pulumi-nodejs:dynamic:Resource",
]);

describe("reality: physical names", () => {
    before(async function () {
        this.timeout(60000);
        await evaluatedScenarios();
    });

    it("tests a stack whose service name has the maximum length", async () => {
        const names = (await evaluatedScenarios()).map((s) => JSON.parse(JSON.stringify(s.config["switchyard:service"])).name as string);
        assert.ok(
            names.some((n) => n.length === SERVICE_NAME_MAX_LENGTH),
            names.join(", "),
        );
    });

    it("every auto-named resource fits its AWS limit after the provider's 8-character suffix (defect 6)", async () => {
        for (const s of await evaluatedScenarios()) {
            for (const r of s.evaluation.resources.filter((x) => x.custom && AUTO_NAME_LIMITS[x.type])) {
                const { limit, source } = AUTO_NAME_LIMITS[r.type];
                const physical = r.name.length + AUTO_NAME_SUFFIX_LENGTH;
                assert.ok(
                    physical <= limit,
                    `${s.title}: ${r.type} ${r.name}-xxxxxxx is ${physical} characters; AWS allows ${limit} (${source})`,
                );
            }
        }
    });

    it("every explicit name fits its AWS limit", async () => {
        for (const s of await evaluatedScenarios()) {
            for (const r of s.evaluation.resources.filter((x) => EXPLICIT_NAMES[x.type])) {
                const { property, limit, source } = EXPLICIT_NAMES[r.type];
                assert.ok(String(r.inputs[property]).length <= limit, `${s.title}: ${r.type} ${property} exceeds ${limit} (${source})`);
            }
        }
    });

    it("every registered resource type is classified above, so a new auto-named type cannot slip through", async () => {
        const types = new Set(
            (await evaluatedScenarios()).flatMap((s) => s.evaluation.resources.filter((r) => r.custom).map((r) => r.type)),
        );
        const unknown = [...types].filter((t) => !AUTO_NAME_LIMITS[t] && !EXPLICIT_NAMES[t] && !UNNAMED.has(t));
        assert.deepEqual(unknown, []);
    });

    // ECR repository names: (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*
    // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
    it("every ECR repository's generated name matches ECR's pattern", async () => {
        for (const s of await evaluatedScenarios()) {
            for (const r of s.evaluation.resources.filter((x) => x.type === "aws:ecr/repository:Repository")) {
                assert.match(`${r.name}-abc1234`, /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, s.title);
            }
        }
    });

    // Security group and rule descriptions: "Up to 255 characters. Valid characters: a-z, A-Z,
    // 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*"
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
    it("uses only the characters EC2 accepts in security group and rule descriptions", async () => {
        const valid = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{0,255}$/;
        for (const s of await evaluatedScenarios()) {
            for (const sg of s.evaluation.resources.filter((r) => r.type === "aws:ec2/securityGroup:SecurityGroup")) {
                const rules = [...(sg.inputs.ingress ?? []), ...(sg.inputs.egress ?? [])];
                for (const d of [sg.inputs.description, ...rules.map((r: { description?: string }) => r.description ?? "")]) {
                    assert.match(d, valid, `${s.title}: ${sg.name}`);
                }
            }
        }
    });

    // Task definition family: "Up to 255 letters (uppercase and lowercase), numbers, underscores,
    // and hyphens" (API_RegisterTaskDefinition.html); dashboard names: "A-Z, a-z, 0-9, "-", and
    // "_"" (API_PutDashboard.html).
    it("uses only the characters ECS and CloudWatch accept in family and dashboard names", async () => {
        for (const s of await evaluatedScenarios()) {
            for (const r of s.evaluation.resources) {
                if (r.type === "aws:ecs/taskDefinition:TaskDefinition") assert.match(r.inputs.family, /^[A-Za-z0-9_-]{1,255}$/, s.title);
                if (r.type === "aws:cloudwatch/dashboard:Dashboard")
                    assert.match(r.inputs.dashboardName, /^[A-Za-z0-9_-]{1,255}$/, s.title);
            }
        }
    });

    it("refuses a 16-character service.name, and one ECR would refuse, before anything is registered", () => {
        for (const name of ["a".repeat(SERVICE_NAME_MAX_LENGTH + 1), "web--x", "web-"]) {
            const raw = baseRaw();
            raw.service.name = name;
            assert.throws(
                () => parseConfig(raw, "dev"),
                (e: unknown) =>
                    e instanceof ConfigError &&
                    e.problems.some((p) => p.startsWith(`switchyard:service.name must be 1-${SERVICE_NAME_MAX_LENGTH} lowercase letters`)),
            );
        }
    });
});
