/**
 * Typed escape hatches per child (issue 16, item 6): a partial or a function, applied last, and a
 * clear refusal when it changes what an invariant relies on (components/transform.ts GUARDED).
 */
import { strict as assert } from "node:assert";
import { BlueGreenService, BlueGreenServiceArgs } from "../../components/blueGreenService";
import { ServiceTransforms } from "../../components/transform";
import { parseConfig } from "../../lib/config";
import { baseRaw, digest } from "../helpers/configs";
import { Recorded, registered, resetRecorded, settle, useStack } from "../helpers/mocks";
import { ofType, one } from "../helpers/program";

/** A service built directly from typed Args under the mocks; what it registered. */
async function build(transform: ServiceTransforms): Promise<Recorded[]> {
    await useStack("dev");
    resetRecorded();
    const raw = baseRaw();
    raw.slots.green = { image: digest("b") };
    raw.traffic.routes = [{ color: "green", header: { name: "x-beta", values: ["1"] } }];
    const args: BlueGreenServiceArgs = { config: parseConfig(raw, "dev"), transform };
    new BlueGreenService("web", args);
    await settle();
    return registered();
}

describe("BlueGreenService transforms", () => {
    it("merges a partial and runs a function over each child's args, last", async () => {
        const resources = await build({
            targetGroup: { slowStart: 30 },
            service: { enableExecuteCommand: true },
            taskDefinition: (args) => {
                args.tags = { ...(args.tags as Record<string, string>), team: "payments" };
            },
            logGroup: { retentionInDays: 90 },
            alarm: { datapointsToAlarm: 2 },
            listenerRule: (args) => {
                args.tags = { owner: "web-team" };
            },
        });
        for (const tg of ofType(resources, "aws:lb/targetGroup:TargetGroup")) assert.equal(tg.inputs.slowStart, 30, tg.name);
        for (const svc of ofType(resources, "aws:ecs/service:Service")) assert.equal(svc.inputs.enableExecuteCommand, true, svc.name);
        for (const td of ofType(resources, "aws:ecs/taskDefinition:TaskDefinition")) assert.equal(td.inputs.tags.team, "payments", td.name);
        for (const lg of ofType(resources, "aws:cloudwatch/logGroup:LogGroup")) assert.equal(lg.inputs.retentionInDays, 90, lg.name);
        const alarms = ofType(resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
        assert.equal(alarms.length, 6);
        for (const a of alarms) assert.equal(a.inputs.datapointsToAlarm, 2, a.name);
        assert.deepEqual(one(resources, "aws:lb/listenerRule:ListenerRule", "web-route-p1").inputs.tags, { owner: "web-team" });
        // What switchyard sets and the transform did not touch stays.
        assert.equal(one(resources, "aws:lb/targetGroup:TargetGroup", "web-blue-tg").inputs.port, 8080);
    });

    const refusals: [string, ServiceTransforms, RegExp][] = [
        [
            "a target group's port",
            { targetGroup: { port: 80 } },
            /^transform\.targetGroup of web-blue-tg changes port: port is switchyard's \(the fleet's tasks and health checks listen on service\.port\); remove it from the transform$/,
        ],
        [
            "a target group's protocol",
            { targetGroup: (a) => void (a.protocol = "HTTPS") },
            /transform\.targetGroup of web-blue-tg changes protocol/,
        ],
        [
            "a rule's priority",
            { listenerRule: { priority: 7 } },
            /transform\.listenerRule of web-route-p1 changes priority: .*PriorityInUse/,
        ],
        ["a rule's actions", { listenerRule: { actions: [] } }, /transform\.listenerRule of web-route-p1 changes actions/],
        ["an alarm's name", { alarm: { name: "mine" } }, /transform\.alarm of web-monitoring-blue-5xx changes name: .*lib\/alarms\.ts/],
        ["a service's desired count", { service: { desiredCount: 9 } }, /transform\.service of web-blue-svc changes desiredCount/],
        [
            "a physical name",
            { securityGroup: { name: "fixed" } },
            /transform\.securityGroup of web-blue-tasks changes name: name is switchyard's \(auto-named\)/,
        ],
        [
            "the execution role's trust",
            { executionRole: { assumeRolePolicy: "{}" } },
            /transform\.executionRole of web-blue-exec changes assumeRolePolicy/,
        ],
    ];
    for (const [what, transform, message] of refusals) {
        it(`refuses a transform that changes ${what}, naming the field`, async () => {
            await assert.rejects(build(transform), (e: Error) => {
                assert.match(e.message, message);
                return true;
            });
        });
    }
});
