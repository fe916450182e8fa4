/**
 * The components as a library: examples/two-services builds two blue/green services on one
 * shared load balancer from typed Args alone (no `switchyard:*` stack configuration).
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { ofType } from "../helpers/program";
import { Recorded, registered, resetRecorded, settle, useStack } from "../helpers/mocks";

const EXAMPLE = require.resolve(path.join(__dirname, "..", "..", "examples", "two-services", "index"));

async function evaluateExample(): Promise<Recorded[]> {
    await useStack("dev");
    resetRecorded();
    delete require.cache[EXAMPLE];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- runs the example program under the mocks
    require(EXAMPLE);
    await settle();
    return registered();
}

describe("examples/two-services: two services on a shared edge, from the components alone", () => {
    let resources: Recorded[];
    before(async () => {
        resources = await evaluateExample();
    });

    it("creates one load balancer, its security group and one cluster for both services", () => {
        assert.deepEqual(
            ofType(resources, "aws:lb/loadBalancer:LoadBalancer").map((r) => r.name),
            ["shop-alb"],
        );
        assert.deepEqual(
            ofType(resources, "aws:ecs/cluster:Cluster").map((r) => r.name),
            ["shop-cluster"],
        );
        const albGroups = ofType(resources, "aws:ec2/securityGroup:SecurityGroup").filter((r) => r.name.endsWith("-alb"));
        assert.deepEqual(
            albGroups.map((r) => r.name),
            ["shop-alb"],
        );
    });

    it("gives each service its own target groups and services, in the shared cluster", () => {
        assert.deepEqual(
            ofType(resources, "aws:lb/targetGroup:TargetGroup")
                .map((r) => r.name)
                .sort(),
            ["api-blue-tg", "api-green-tg", "web-blue-tg", "web-green-tg"],
        );
        const services = ofType(resources, "aws:ecs/service:Service");
        assert.deepEqual(services.map((r) => r.name).sort(), ["api-blue-svc", "web-blue-svc"]);
        for (const s of services) assert.equal(s.inputs.cluster, "arn:aws:ecs:eu-west-1:123456789012:shop-cluster", s.name);
    });

    it("answers 404 on both listeners to what no rule matches, and adds each service's rules to them", () => {
        const listeners = ofType(resources, "aws:lb/listener:Listener");
        assert.deepEqual(listeners.map((l) => [l.name, l.inputs.port, l.inputs.defaultActions[0].type]).sort(), [
            ["shop-prod-listener", 80, "fixed-response"],
            ["shop-test-listener", 9000, "fixed-response"],
        ]);
        const arn = (name: string) => `arn:aws:lb:eu-west-1:123456789012:${name}`;
        const rules = ofType(resources, "aws:lb/listenerRule:ListenerRule").map((r) => [
            r.name,
            r.inputs.listenerArn,
            r.inputs.priority,
            r.inputs.actions[0].forward.targetGroups.map((t: { weight: number }) => t.weight),
        ]);
        assert.deepEqual(rules.sort(), [
            ["api-forward", arn("shop-prod-listener"), 199, [100, 0]],
            ["api-test", arn("shop-test-listener"), 100, [0, 100]],
            ["web-forward", arn("shop-prod-listener"), 1099, [100, 0]],
            ["web-test", arn("shop-test-listener"), 1000, [0, 100]],
        ]);
    });

    it("makes each service's production rule wait for its own health gate, not the other's", () => {
        const gate = (service: string) =>
            resources.find((r) => r.type === "pulumi-nodejs:dynamic:Resource" && r.name === `${service}-gate`)!;
        for (const [service, other] of [
            ["api", "web"],
            ["web", "api"],
        ]) {
            const forward = resources.find((r) => r.name === `${service}-forward`)!;
            assert.ok(forward.dependencies.includes(gate(service).urn), `${service}-forward waits for ${service}-gate`);
            assert.ok(!forward.dependencies.includes(gate(other).urn), `${service}-forward does not wait for ${other}-gate`);
        }
    });
});
