/**
 * The invariants 3, 4, 5 and 7 (README, "The invariants"), by evaluating the program twice and diffing what it
 * registers: a flip, a release and a rollback each touch exactly what they should.
 */
import { strict as assert } from "node:assert";
import { baseRaw, digest, stackConfig } from "../helpers/configs";
import { brokenInvariants, diffResources, ROUTING_TYPES } from "../helpers/diff";
import { evaluate } from "../helpers/program";

/** Blue live on A, green warm on B: the state right after `start`. */
function started(): Record<string, any> {
    const raw = baseRaw();
    raw.slots.green = { image: digest("b") };
    raw.service.autoscaling = { min: 2, max: 6, requestsPerTarget: 500 };
    return raw;
}

const run = (raw: Record<string, any>) => evaluate("dev", stackConfig(raw));

/** Both evaluations diffed, with the kind of change and the invariants it breaks (lib/plan, as `plan` checks them). */
async function change(before: Record<string, any>, after: Record<string, any>) {
    const [b, a] = [await run(before), await run(after)];
    return {
        diff: diffResources(b.resources, a.resources),
        ...brokenInvariants({ raw: before, evaluation: b }, { raw: after, evaluation: a }),
    };
}
const typeOf = (k: string) => k.split("::")[0];

describe("invariants (README, The invariants)", () => {
    it("3 and 7: a flip changes only listeners and listener rules; nothing is created, deleted or replaced", async () => {
        const before = started();
        // A route to the candidate, which the flip leaves as it is (re-pointing a route as well is a second step: plan says "combined").
        before.traffic.routes = [{ color: "green", header: { name: "x-beta", values: ["alice"] } }];
        const after = structuredClone(before);
        after.traffic = { live: "green", previous: "blue", routes: [{ color: "green", header: { name: "x-beta", values: ["alice"] } }] };

        const { diff, kind, violations } = await change(before, after);
        assert.deepEqual([kind, violations], ["flip", []]);
        assert.deepEqual(diff.created, []);
        assert.deepEqual(diff.deleted, []);
        assert.ok(diff.changed.length >= 2, `expected the listeners to change, got ${diff.changed}`);
        const nonRouting = diff.changed.filter((k) => !ROUTING_TYPES.has(typeOf(k)));
        assert.deepEqual(nonRouting, [], "a flip must not touch fleets, target groups or the load balancer");
        assert.ok(diff.changed.includes("aws:lb/listener:Listener::web-prod-listener"));
        assert.ok(diff.changed.includes("aws:lb/listener:Listener::web-test-listener"));
    });

    it("a canary step changes only the production listener (and the gate)", async () => {
        const before = started();
        const after = structuredClone(before);
        after.traffic.canary = { percent: 10 };
        const { diff, kind, violations } = await change(before, after);
        assert.deepEqual([kind, violations], ["canary step", []]);
        assert.deepEqual(diff.created, []);
        assert.deepEqual(diff.deleted, []);
        assert.deepEqual(
            diff.changed.filter((k) => k !== "pulumi-nodejs:dynamic:Resource::web-gate"),
            ["aws:lb/listener:Listener::web-prod-listener"],
        );
    });

    it("4: a release into the candidate changes only the candidate's resources", async () => {
        const before = started();
        const after = structuredClone(before);
        after.slots.green = { image: digest("c") };
        const { diff, kind, violations } = await change(before, after);
        assert.deepEqual([kind, violations], ["release", []]);
        assert.deepEqual(diff.created, []);
        assert.deepEqual(diff.deleted, []);
        // The task definition is replaced (a new revision); the service follows its new ARN. The
        // candidate autoscales, so its warm gate re-runs for the new image: `pulumi up` waits for its tasks.
        assert.deepEqual(diff.changed, [
            "aws:ecs/service:Service::web-green-svc",
            "aws:ecs/taskDefinition:TaskDefinition::web-green-task",
            "pulumi-nodejs:dynamic:Resource::web-green-warm",
        ]);
    });

    it("4: the first release into an empty candidate creates only that colour's task definition, role and service", async () => {
        const before = baseRaw();
        const after = started();
        delete before.service.autoscaling;
        delete after.service.autoscaling;
        const { diff, kind, violations } = await change(before, after);
        assert.deepEqual([kind, violations], ["release", []]);
        assert.deepEqual(diff.deleted, []);
        assert.ok(diff.created.length > 0);
        for (const k of [...diff.created, ...diff.changed]) {
            assert.match(k, /::web-green-/, `${k} is not a candidate resource`);
        }
    });

    it("5: rollback after a flip restores every resource input exactly", async () => {
        const original = started();
        original.traffic.canary = { percent: 25, stickiness: 600 };
        const flipped = structuredClone(original);
        flipped.traffic = { live: "green", previous: "blue" };

        const first = await run(original);
        const middle = await run(flipped);
        const rolledBack = await run(original);
        assert.notDeepEqual(diffResources(first.resources, middle.resources).changed, []);
        assert.deepEqual(diffResources(first.resources, rolledBack.resources), { created: [], deleted: [], changed: [] });
        assert.deepEqual(rolledBack.outputs.weights, { blue: 75, green: 25 });
    });

    it("6: finish scales the old colour down only once it has no traffic, in its own update", async () => {
        const flipped = started();
        delete flipped.service.autoscaling;
        flipped.traffic = { live: "green", previous: "blue" };
        const finished = structuredClone(flipped);
        delete finished.traffic.previous;
        finished.slots.blue.idle = true;

        const { diff, kind, violations } = await change(flipped, finished);
        assert.deepEqual([kind, violations], ["finish", []]);
        // The gate re-records that blue is no longer the rollback target (previous is in its trigger).
        assert.deepEqual(diff, {
            created: [],
            deleted: [],
            changed: ["aws:ecs/service:Service::web-blue-svc", "pulumi-nodejs:dynamic:Resource::web-gate"],
        });
        const blue = (await run(finished)).resources.find((r) => r.name === "web-blue-svc")!;
        assert.equal(blue.inputs.desiredCount, 0);
    });
});
