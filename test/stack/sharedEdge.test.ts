/**
 * The services form on Pulumi's mocks (issue 16): one shared edge, the default service owning the
 * listeners' default actions, every other service's rules from the rule layout, and an adopted
 * edge that creates nothing of the edge.
 */
import { strict as assert } from "node:assert";
import { ACCOUNT, Recorded } from "../helpers/mocks";
import { stackConfig } from "../helpers/configs";
import { evaluate, ofType, one } from "../helpers/program";
import { servicesRaw } from "../helpers/servicesConfigs";
import { diffEvaluations } from "../../lib/plan/diff";

const LISTENER = "aws:lb/listener:Listener";
const RULE = "aws:lb/listenerRule:ListenerRule";
const arn = (name: string) => `arn:aws:lb:eu-west-1:${ACCOUNT}:${name}`;
const names = (rs: Recorded[]) => rs.map((r) => r.name).sort();

describe("many services on one load balancer (services form)", () => {
    describe("web as the default, api on /api of api.example.com", () => {
        let resources: Recorded[];
        before(async () => {
            resources = (await evaluate("dev", stackConfig(servicesRaw()))).resources;
        });

        it("creates one ALB, one edge security group and one cluster, named for the edge", () => {
            assert.deepEqual(names(ofType(resources, "aws:lb/loadBalancer:LoadBalancer")), ["edge-alb"]);
            assert.deepEqual(names(ofType(resources, "aws:ecs/cluster:Cluster")), ["edge-cluster"]);
            assert.deepEqual(
                names(ofType(resources, "aws:ec2/securityGroup:SecurityGroup")).filter((n) => n.endsWith("-alb")),
                ["edge-alb"],
            );
        });

        it("lets web, the default, own both listeners' default actions on the shared ALB", () => {
            const listeners = ofType(resources, LISTENER);
            assert.deepEqual(names(listeners), ["web-prod-listener", "web-test-listener"]);
            for (const l of listeners) assert.equal(l.inputs.loadBalancerArn, arn("edge-alb"), l.name);
            const prod = one(resources, LISTENER, "web-prod-listener");
            assert.deepEqual(
                prod.inputs.defaultActions[0].forward.targetGroups.map((t: { arn: string; weight: number }) => [t.arn, t.weight]),
                [
                    [arn("web-blue-tg"), 100],
                    [arn("web-green-tg"), 0],
                ],
            );
        });

        it("adds api's route, weighted forward and test rule from the rule layout, with api's match on each", () => {
            const match = [{ pathPattern: { values: ["/api", "/api/*"] } }, { hostHeader: { values: ["api.example.com"] } }];
            const rules = ofType(resources, RULE).map((r) => [r.name, r.inputs.listenerArn, r.inputs.priority, r.inputs.conditions]);
            assert.deepEqual(rules.sort(), [
                ["api-forward", arn("web-prod-listener"), 199, match],
                ["api-route-p1", arn("web-prod-listener"), 100, [...match, { httpHeader: { httpHeaderName: "x-beta", values: ["1"] } }]],
                ["api-test", arn("web-test-listener"), 100, match],
            ]);
            const forward = one(resources, RULE, "api-forward");
            assert.deepEqual(
                forward.inputs.actions[0].forward.targetGroups.map((t: { arn: string; weight: number }) => [t.arn, t.weight]),
                [
                    [arn("api-blue-tg"), 0],
                    [arn("api-green-tg"), 100],
                ],
            );
        });

        it("makes api's production rules wait for api's gate, not web's", () => {
            const gate = (s: string) => one(resources, "pulumi-nodejs:dynamic:Resource", `${s}-gate`).urn;
            for (const name of ["api-forward", "api-route-p1"]) {
                const rule = one(resources, RULE, name);
                assert.ok(rule.dependencies.includes(gate("api")), `${name} waits for api-gate`);
                assert.ok(!rule.dependencies.includes(gate("web")), `${name} does not wait for web-gate`);
            }
        });

        it("tags each service's resources with its own name, and the edge's with edge", () => {
            assert.equal(one(resources, "aws:lb/targetGroup:TargetGroup", "api-green-tg").inputs.tags["switchyard:service"], "api");
            assert.equal(one(resources, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs.tags["switchyard:service"], "edge");
        });
    });

    it("answers 404 on both listeners of the edge when no service is the default", async () => {
        const raw = servicesRaw();
        delete raw.loadBalancer;
        raw.services.web.match = { hosts: ["www.example.com"], priority: 1000 };
        const { resources } = await evaluate("dev", stackConfig(raw));
        assert.deepEqual(
            ofType(resources, LISTENER)
                .map((l) => [l.name, l.inputs.defaultActions[0].type])
                .sort(),
            [
                ["edge-prod-listener", "fixed-response"],
                ["edge-test-listener", "fixed-response"],
            ],
        );
        assert.deepEqual(names(ofType(resources, RULE)), ["api-forward", "api-route-p1", "api-test", "web-forward", "web-test"]);
    });

    // One listener per port (CreateListener: DuplicateListener): the listeners must move between
    // owners by alias, never be created while the old ones hold the ports (engine: creates first).
    it("changes loadBalancer.default by updating the listeners in place: none created or deleted", async () => {
        const webDefault = servicesRaw();
        const noDefault = structuredClone(webDefault);
        delete noDefault.loadBalancer;
        noDefault.services.web.match = { hosts: ["www.example.com"], priority: 1000 };
        const apiDefault = structuredClone(noDefault);
        apiDefault.loadBalancer = { default: "api" };
        apiDefault.services.api.match = { priority: 40000 };
        apiDefault.services.api.traffic = { live: "green" };
        const listenerChanges = async (a: Record<string, any>, b: Record<string, any>) =>
            diffEvaluations((await evaluate("dev", stackConfig(a))).resources, (await evaluate("dev", stackConfig(b))).resources)
                .filter((c) => c.type === LISTENER)
                .map((c) => `${c.change} ${c.name}`)
                .sort();
        assert.deepEqual(await listenerChanges(webDefault, noDefault), ["update edge-prod-listener", "update edge-test-listener"]);
        assert.deepEqual(await listenerChanges(noDefault, apiDefault), ["update api-prod-listener", "update api-test-listener"]);
        assert.deepEqual(await listenerChanges(webDefault, apiDefault), ["update api-prod-listener", "update api-test-listener"]);
    });

    it("creates nothing of an adopted edge: no ALB, no listener, no edge security group; rules go on its listeners", async () => {
        const raw = servicesRaw();
        const lb = `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:loadbalancer/app/shared/50dc6c495c0c9188`;
        const listener = (id: string) => `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:listener/app/shared/50dc6c495c0c9188/${id}`;
        raw.loadBalancer = {
            adopt: {
                arn: lb,
                securityGroupId: "sg-0123456789abcdef0",
                productionListenerArn: listener("f2f7dc8efc522ab2"),
                testListenerArn: listener("a1b2c3d4e5f60718"),
            },
        };
        raw.services.web.match = { hosts: ["www.example.com"], priority: 1000 };
        const { resources } = await evaluate("dev", stackConfig(raw));
        assert.deepEqual(ofType(resources, "aws:lb/loadBalancer:LoadBalancer"), []);
        assert.deepEqual(ofType(resources, LISTENER), []);
        assert.deepEqual(
            names(ofType(resources, "aws:ec2/securityGroup:SecurityGroup")).filter((n) => n.endsWith("-alb")),
            [],
        );
        for (const r of ofType(resources, RULE)) {
            assert.equal(
                r.inputs.listenerArn,
                r.name.endsWith("-test") ? listener("a1b2c3d4e5f60718") : listener("f2f7dc8efc522ab2"),
                r.name,
            );
        }
        const taskGroup = one(resources, "aws:ec2/securityGroup:SecurityGroup", "api-blue-tasks");
        assert.deepEqual(
            taskGroup.inputs.ingress.map((i: { securityGroups: string[] }) => i.securityGroups),
            [["sg-0123456789abcdef0"]],
        );
    });
});
