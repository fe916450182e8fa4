// The CI roles' permissions (issue 14, item 10): docs/ci-role-policy.json must allow exactly the
// actions the stack and the tools call, derived from the code (test/pipeline/awsActions.ts): every
// AWS SDK command the release tool, the health gate and rollout import, every resource type the
// program registers for the committed stacks and the generated test configurations
// (test/reality/scenarios.ts), and every provider function it may invoke. A new command, resource
// type or invoke without its actions fails here, and so does an action nothing needs.
// Policy grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html;
// iam:PassedToService and iam:AWSServiceName: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { evaluatedScenarios } from "../reality/scenarios";
import {
    callsNothing,
    INVOKE_ACTIONS,
    mockedInvokes,
    RESOURCE_ACTIONS,
    ROOT,
    sdkUses,
    sdkUsesInProject,
    SERVICE_LINKED_ROLE,
} from "./awsActions";

interface Statement {
    Sid: string;
    Effect: string;
    Action: string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
}
const policy = JSON.parse(readFileSync(path.join(ROOT, "docs", "ci-role-policy.json"), "utf8")) as {
    Version: string;
    Statement: Statement[];
};
const allowed = () => policy.Statement.flatMap((s) => s.Action);
const statement = (sid: string) => policy.Statement.find((s) => s.Sid === sid)!;

describe("CI role policy (docs/ci-role-policy.json)", function () {
    this.timeout(120_000);
    let types: string[];

    before(async () => {
        const evaluated = await evaluatedScenarios();
        types = [...new Set(evaluated.flatMap((e) => e.evaluation.resources.map((r) => r.type)))].sort();
    });

    it("is a policy of exact actions, each allowed once, with no wildcard", () => {
        assert.equal(policy.Version, "2012-10-17");
        for (const s of policy.Statement) assert.equal(s.Effect, "Allow", s.Sid);
        for (const a of allowed()) assert.match(a, /^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/);
        assert.equal(new Set(allowed()).size, allowed().length, "an action in two statements");
    });

    it("maps every SDK operation the tools import to an action", () => {
        const uses = sdkUsesInProject();
        assert.ok(uses.length >= 15, `only ${uses.length} SDK operations found: the scan is broken`);
        assert.deepEqual(
            uses.filter((u) => u.problem).map((u) => `${u.file}: ${u.problem}`),
            [],
        );
    });

    it("knows the calls of every resource type the program registers", () => {
        assert.ok(
            types.includes("aws:lb/listenerRule:ListenerRule") && types.includes("aws:appautoscaling/policy:Policy"),
            types.join(", "),
        );
        const unknown = types.filter((t) => !callsNothing(t) && !(t in RESOURCE_ACTIONS));
        assert.deepEqual(unknown, [], "add these types' actions to RESOURCE_ACTIONS in test/pipeline/awsActions.ts (and the policy)");
    });

    it("knows the calls of every provider function the program may invoke", () => {
        assert.deepEqual(
            mockedInvokes().filter((t) => !(t in INVOKE_ACTIONS)),
            [],
        );
    });

    it("allows exactly what the stack and the tools call", () => {
        const needed = new Set<string>([
            ...sdkUsesInProject().flatMap((u) => (u.action ? [u.action] : [])),
            ...types.flatMap((t) => RESOURCE_ACTIONS[t] ?? []),
            ...mockedInvokes().flatMap((t) => INVOKE_ACTIONS[t] ?? []),
        ]);
        const missing = [...needed].filter((a) => !allowed().includes(a)).sort();
        const unused = allowed()
            .filter((a) => !needed.has(a))
            .sort();
        assert.deepEqual({ missing, unused }, { missing: [], unused: [] });
    });

    it("passes roles only to ECS tasks", () => {
        const pass = policy.Statement.filter((s) => s.Action.includes("iam:PassRole"));
        assert.deepEqual(
            pass.map((s) => [s.Action, s.Condition]),
            [[["iam:PassRole"], { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } }]],
        );
    });

    it("creates only the service-linked roles of the services the stack uses", () => {
        const services = [...new Set(types.flatMap((t) => (SERVICE_LINKED_ROLE[t] ? [SERVICE_LINKED_ROLE[t]] : [])))].sort();
        assert.deepEqual(services, [
            "ecs.amazonaws.com",
            "ecs.application-autoscaling.amazonaws.com",
            "elasticloadbalancing.amazonaws.com",
        ]);
        const slr = statement("ServiceLinkedRoles");
        assert.deepEqual(slr.Action, ["iam:CreateServiceLinkedRole"]);
        assert.deepEqual(slr.Condition, { StringEquals: { "iam:AWSServiceName": services } });
    });

    it("keeps rollout's lock to its table (lib/aws/lock.ts: table switchyard-locks)", () => {
        const lock = statement("RolloutLock");
        assert.equal(lock.Resource, "arn:aws:dynamodb:*:123456789012:table/switchyard-locks");
        assert.deepEqual(
            allowed().filter((a) => a.startsWith("dynamodb:")),
            lock.Action,
        );
        assert.ok(readFileSync(path.join(ROOT, "lib", "aws", "lock.ts"), "utf8").includes('"switchyard-locks"'));
    });

    it("fails for a new command without its action, and for a client package it cannot map (the check can fail)", () => {
        const added = sdkUses(
            "lib/aws/new.ts",
            'import { CloudWatchClient, SetAlarmStateCommand, paginateListMetrics } from "@aws-sdk/client-cloudwatch";\n' +
                'import { ListFunctionsCommand } from "@aws-sdk/client-lambda";\n',
        );
        assert.deepEqual(
            added.map((u) => u.action ?? u.problem),
            [
                "cloudwatch:SetAlarmState",
                "cloudwatch:ListMetrics",
                "@aws-sdk/client-lambda has no IAM prefix in IAM_PREFIX (test/pipeline/awsActions.ts)",
            ],
        );
        assert.ok(!allowed().includes("cloudwatch:SetAlarmState") && !allowed().includes("cloudwatch:ListMetrics"));
    });

    it("is the file docs/pipeline.md points to", () => {
        assert.match(readFileSync(path.join(ROOT, "docs", "pipeline.md"), "utf8"), /\[`ci-role-policy\.json`\]\(ci-role-policy\.json\)/);
    });
});
