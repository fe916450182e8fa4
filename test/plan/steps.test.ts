/**
 * `plan` on every release step, made with the release tool's own edits (lib/release.ts), on the
 * committed stacks and on generated ones: it names the kind, finds no broken invariant, lists
 * exactly the resources the invariants (README) allow to change, and prints an undo that works.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { SwitchyardConfig } from "../../lib/config";
import { Plan } from "../../lib/plan/plan";
import * as release from "../../lib/release";
import { routeAdd, routeRemove } from "../../lib/routes";
import { BUILT, ConfigMap, afterStep, changeList, committed, configOf, digest, planOf } from "./helpers";

/** The committed prod stack declares database.schema 3: every build there says what it runs against. */
const SCHEMA = { versions: [3] };

const ROUTING = ["update Listener web-prod-listener", "update Listener web-test-listener", "update Resource web-gate"];

/** The undo command's step applied to the planned stack file, as the release tool would run it. */
function undoSteps(plan: Plan): ((cfg: SwitchyardConfig) => release.StepResult)[] {
    return (plan.undo.command ?? "").split(" && ").map(undoStep);
}

function undoStep(line: string): (cfg: SwitchyardConfig) => release.StepResult {
    const args = line.replace(/^npm run switchyard -- /, "").replace(/ --stack \S+.*$/, "");
    const [command, ...rest] = args.split(" ");
    const flags = Object.fromEntries(rest.flatMap((w, i) => (w.startsWith("--") ? [[w.slice(2), rest[i + 1]]] : [])));
    const all = (flag: string) => rest.flatMap((w, i) => (w === `--${flag}` ? [rest[i + 1]] : []));
    if (command === "route" && rest[0] === "add") {
        const flagsOf = { color: flags.color, header: flags.header, cookie: flags.cookie, priority: Number(flags.priority) };
        return (c) => routeAdd(c, { ...flagsOf, sourceIps: all("source-ip"), hosts: all("host"), queries: all("query") });
    }
    if (command === "route" && rest[0] === "remove") return (c) => routeRemove(c, Number(flags.priority));
    const stickiness = flags.stickiness === undefined ? undefined : Number(flags.stickiness);
    if (command === "rollback") return (c) => release.rollback(c);
    if (command === "flip") return (c) => release.flip(c);
    if (command === "finish") return (c) => release.finish(c);
    if (command === "canary") return (c) => release.canary(c, { percent: Number(flags.percent), stickiness });
    if (command === "start") return (c) => release.start(c, { image: flags.image, build: flags.build });
    throw new Error(`no undo step for '${line}'`);
}

/**
 * Planning `before → after` gives `kind`, no violation, and an undo that returns the stack file
 * exactly to the base (its whole switchyard configuration, not only the routing), or says git revert.
 */
async function expectStep(stack: string, before: ConfigMap, after: ConfigMap, kind: string, live?: Map<string, string>): Promise<Plan> {
    const plan = await planOf(stack, before, after, live);
    assert.equal(plan.kind, kind, plan.summary);
    assert.deepEqual(plan.violations, []);
    if (plan.undo.command === null) {
        assert.match(plan.undo.note, /revert the commit \(git revert\)|nothing to undo/);
        return plan;
    }
    const undone = undoSteps(plan).reduce((map, step) => afterStep(stack, map, step), after);
    // Routes compared in priority order: the ALB evaluates rules by priority, not by their place in the list.
    const byPriority = (cfg: SwitchyardConfig) => ({
        ...cfg,
        traffic: { ...cfg.traffic, routes: [...cfg.traffic.routes].sort((a, b) => a.priority - b.priority) },
    });
    assert.deepEqual(byPriority(configOf(stack, undone)), byPriority(configOf(stack, before)), `undo: ${plan.undo.command}`);
    return plan;
}

describe("plan: release steps", () => {
    it("dev as committed (live green is a build): start, canary, flip, rollback, finish, and promote into prod", async () => {
        const dev = committed("dev");
        // The build says which database schema it runs against, so promote can carry it to prod (which declares one).
        const started = afterStep("dev", dev, (c) =>
            release.start(c, { image: digest("e"), liveDigest: BUILT, schema: { versions: [3] } }),
        );
        const canary = afterStep("dev", started, (c) => release.canary(c, { percent: 10 }));
        const flipped = afterStep("dev", canary, (c) => release.flip(c));

        // start pins the live build, so nothing rebuilds it: the image build goes, blue is created.
        assert.deepEqual(changeList(await expectStep("dev", dev, started, "release")), [
            "create Role web-blue-exec",
            "create RolePolicy web-blue-exec",
            "create Service web-blue-svc",
            "create TaskDefinition web-blue-task",
            "delete Image web-image-image",
            "delete RandomId web-image-build",
        ]);
        assert.deepEqual(changeList(await expectStep("dev", started, canary, "canary step")), [ROUTING[0], ROUTING[2]]);
        assert.deepEqual(changeList(await expectStep("dev", canary, flipped, "flip")), ROUTING);
        assert.deepEqual(changeList(await expectStep("dev", flipped, afterStep("dev", flipped, release.rollback), "rollback")), ROUTING);
        // The gate re-records that no colour is a rollback target any more (previous is in its trigger).
        assert.deepEqual(changeList(await expectStep("dev", flipped, afterStep("dev", flipped, release.finish), "finish")), [
            "update Resource web-gate",
            "update Service web-green-svc",
        ]);

        // A build in the candidate is pinned to the digest pulumi up pushed as it goes live: the build resources go.
        const built = afterStep("dev", dev, (c) => release.start(c, { build: "./app", liveDigest: BUILT }));
        const flippedBuild = afterStep("dev", built, (c) => release.flip(c, { digest: BUILT }));
        assert.deepEqual(changeList(await expectStep("dev", built, flippedBuild, "flip")), [
            "delete Image web-image-image",
            "delete RandomId web-image-build",
            ...ROUTING,
        ]);

        // pin swaps the live build for the digest it runs: nothing rebuilds it; its tasks stay as they are.
        const pin = await expectStep(
            "dev",
            dev,
            afterStep("dev", dev, (c) => release.pin(c, { digest: BUILT })),
            "pin",
        );
        assert.deepEqual(changeList(pin), ["delete Image web-image-image", "delete RandomId web-image-build"]);
        // No release-tool command turns an image back into a build.
        assert.deepEqual(pin.undo, {
            command: null,
            note:
                "no release-tool command returns the stack file exactly to the base: revert the commit (git revert); production traffic " +
                "goes where it did, but green now runs web-image-repo-5f3c2a1@sha256:999999999999 (was build ./app)",
        });
        // Offline, what a build pushed is unknown: plan assumes it is the digest the change pins (any
        // repository and digest), so the same pin plans the same way whatever the digest is.
        const otherPin = await planOf(
            "dev",
            dev,
            afterStep("dev", dev, (c) => release.pin(c, { digest: digest("7") })),
        );
        assert.deepEqual([otherPin.violations, changeList(otherPin)], [[], changeList(pin)]);

        const prod = committed("prod");
        const promoted = afterStep("prod", prod, (c) => release.promote(configOf("dev", flipped), c));
        const plan = await expectStep("prod", prod, promoted, "promote", new Map([[digest("e"), "dev"]]));
        assert.match(plan.summary, /gets web@sha256:eeeeeeeeeeee, live in dev/);
    });

    it("prod as committed (autoscaling): start, canary, flip, rollback, finish", async () => {
        const prod = committed("prod");
        const started = afterStep("prod", prod, (c) => release.start(c, { image: digest("f"), schema: SCHEMA }));
        const canary = afterStep("prod", started, (c) => release.canary(c, { percent: 25 }));
        const flipped = afterStep("prod", canary, (c) => release.flip(c));

        const start = await expectStep("prod", prod, started, "release");
        assert.deepEqual(changeList(start), [
            "create Policy web-green-scaling",
            "create Resource web-green-warm",
            "create Role web-green-exec",
            "create RolePolicy web-green-exec",
            "create Service web-green-svc",
            "create Target web-green-scaling",
            "create TaskDefinition web-green-task",
        ]);
        assert.deepEqual(changeList(await expectStep("prod", started, canary, "canary step")), [ROUTING[0], ROUTING[2]]);
        const flip = await expectStep("prod", canary, flipped, "flip");
        assert.deepEqual(changeList(flip), ROUTING);
        // The old colour stays warm for rollback: its tasks are what the release keeps beyond steady state.
        const scaling = { min: 4, max: 12 };
        assert.deepEqual(flip.capacity, {
            colors: [
                { color: "blue", role: "warm for rollback", tasks: 4, vcpu: 2, memoryMiB: 4096, autoscaling: scaling },
                { color: "green", role: "live", tasks: 4, vcpu: 2, memoryMiB: 4096, autoscaling: scaling },
            ],
            beyondSteadyState: { tasks: 4, vcpu: 2, memoryMiB: 4096 },
        });
        assert.equal(
            flip.undo.command,
            "npm run switchyard -- rollback --stack prod && npm run switchyard -- canary --percent 25 --stack prod",
        );
        assert.deepEqual(changeList(await expectStep("prod", flipped, afterStep("prod", flipped, release.rollback), "rollback")), ROUTING);
        // finish scales blue (no traffic since the flip) to its idle count; autoscaling is for colours with traffic.
        assert.deepEqual(changeList(await expectStep("prod", flipped, afterStep("prod", flipped, release.finish), "finish")), [
            "delete Policy web-blue-scaling",
            "delete Resource web-blue-warm",
            "delete Target web-blue-scaling",
            "update Resource web-gate",
            "update Service web-blue-svc",
        ]);
    });

    it("a rollback without a flip (canary and the route to the candidate go, the route to the live colour stays): undone by three commands", async () => {
        const prod = committed("prod");
        const started = afterStep("prod", prod, (c) => release.start(c, { image: digest("f"), schema: SCHEMA }));
        const canary = afterStep("prod", started, (c) => release.canary(c, { percent: 10 }));
        const routed = {
            ...canary,
            "switchyard:traffic": {
                ...(canary["switchyard:traffic"] as object),
                routes: [
                    { color: "green", priority: 5, header: { name: "x-beta-user", values: ["alice", "bob"] } },
                    { color: "blue", priority: 9, sourceIps: ["203.0.113.0/24"] },
                ],
            },
        };
        const rolledBack = afterStep("prod", routed, (c) => release.rollback(c));
        const plan = await expectStep("prod", routed, rolledBack, "rollback");
        assert.equal(plan.summary, "rollback: the canary and the routes to green are removed; blue serves all production traffic");
        assert.equal(
            plan.undo.command,
            "npm run switchyard -- canary --percent 10 --stack prod && " +
                "npm run switchyard -- route add --color green --header x-beta-user=alice,bob --priority 5 --stack prod",
        );
    });

    it("a second release into a warm candidate replaces its task definition, and the service follows it", async () => {
        const prod = committed("prod");
        const first = afterStep("prod", prod, (c) => release.start(c, { image: digest("f"), schema: SCHEMA }));
        const second = afterStep("prod", first, (c) => release.start(c, { image: digest("9"), schema: SCHEMA }));
        const plan = await expectStep("prod", first, second, "release");
        // The candidate autoscales, so its warm gate runs again for the new image (pulumi up waits for its tasks).
        assert.deepEqual(changeList(plan), [
            "replace TaskDefinition web-green-task",
            "update Resource web-green-warm",
            "update Service web-green-svc",
        ]);
        const task = plan.resources.find((r) => r.name === "web-green-task")!;
        assert.deepEqual(task.replacedBecause, ["containerDefinitions[0].image", "containerDefinitions[0].environment[2].value"]);
        const service = plan.resources.find((r) => r.name === "web-green-svc")!;
        assert.deepEqual(service.properties, ["taskDefinition"]);
        assert.deepEqual(service.follows, ["web-green-task"]);
    });

    it("rolling strategy: a release replaces the one fleet's tasks, as designed; undo starts the previous digest again", async () => {
        const rolling: ConfigMap = {
            "aws:region": "eu-west-1",
            "switchyard:strategy": "rolling",
            "switchyard:service": { name: "web", desiredCount: 2 },
            "switchyard:slots": { blue: { image: digest("a") } },
            "switchyard:traffic": { live: "blue" },
        };
        const plan = await expectStep(
            "dev",
            rolling,
            afterStep("dev", rolling, (c) => release.start(c, { image: digest("b") })),
            "release",
        );
        assert.equal(
            plan.summary,
            "release: blue (the only fleet, rolling) gets web@sha256:bbbbbbbbbbbb (was web@sha256:aaaaaaaaaaaa); ECS replaces its tasks in batches",
        );
        assert.deepEqual(changeList(plan), ["replace TaskDefinition web-blue-task", "update Service web-blue-svc"]);
        assert.equal(plan.undo.command, `npm run switchyard -- start --image ${digest("a")} --stack dev`);

        // A build replaced by an image on the one fleet is a release of that image, not a pin: the tasks change.
        const built = { ...rolling, "switchyard:slots": { blue: { build: "./app" } } };
        const fromBuild = await expectStep(
            "dev",
            built,
            afterStep("dev", built, (c) => release.start(c, { image: digest("c") })),
            "release",
        );
        assert.ok(changeList(fromBuild).includes("replace TaskDefinition web-blue-task"), changeList(fromBuild).join("\n"));
    });

    it("a blue-green candidate build replaced by --image is a release whose candidate tasks change (no pin assumed)", async () => {
        const dev = committed("dev");
        const built = afterStep("dev", dev, (c) => release.start(c, { build: "./app", liveDigest: BUILT }));
        const plan = await expectStep(
            "dev",
            built,
            afterStep("dev", built, (c) => release.start(c, { image: digest("c") })),
            "release",
        );
        assert.ok(changeList(plan).includes("replace TaskDefinition web-blue-task"), changeList(plan).join("\n"));
        assert.ok(!changeList(plan).some((c) => c.includes("web-green-")), changeList(plan).join("\n"));
    });

    it("generated stacks: start, canary, flip, finish each keep their blast radius", async () => {
        const arbitrary = fc.record({
            desiredCount: fc.integer({ min: 1, max: 4 }),
            cpu: fc.constantFrom(256, 512),
            percent: fc.integer({ min: 1, max: 99 }),
            stickiness: fc.option(fc.integer({ min: 1, max: 604800 }), { nil: undefined }),
            route: fc.boolean(),
            autoscaling: fc.boolean(),
        });
        await fc.assert(
            fc.asyncProperty(arbitrary, async (g) => {
                const base: ConfigMap = {
                    "aws:region": "eu-west-1",
                    "switchyard:service": {
                        name: "web",
                        desiredCount: g.desiredCount,
                        cpu: g.cpu,
                        memory: 2 * g.cpu,
                        ...(g.autoscaling ? { autoscaling: { min: g.desiredCount, max: g.desiredCount + 4, cpuPercent: 60 } } : {}),
                    },
                    "switchyard:slots": { blue: { image: digest("a") } },
                    "switchyard:traffic": { live: "blue" },
                    "switchyard:testAccess": { cidrs: ["10.0.0.0/8"] },
                };
                const started = afterStep("dev", base, (c) => release.start(c, { image: digest("b") }));
                let canary = afterStep("dev", started, (c) => release.canary(c, { percent: g.percent }));
                if (g.stickiness || g.route) {
                    const traffic = { ...(canary["switchyard:traffic"] as object) } as Record<string, any>;
                    if (g.stickiness) traffic.canary = { ...traffic.canary, stickiness: g.stickiness };
                    if (g.route) traffic.routes = [{ color: "green", header: { name: "x-beta-user", values: ["alice", "bob"] } }];
                    canary = { ...canary, "switchyard:traffic": traffic };
                }
                const flipped = afterStep("dev", canary, (c) => release.flip(c));
                const finished = afterStep("dev", flipped, (c) => release.finish(c));
                for (const r of (await expectStep("dev", base, started, "release")).resources) assert.match(r.name, /^web-green-/);
                // A canary and a route in one edit are two steps, named as such.
                const step = await expectStep("dev", started, canary, g.route ? "combined" : "canary step");
                assert.deepEqual(
                    step.parts.map((p) => p.kind),
                    g.route ? ["canary step", "route change"] : ["canary step"],
                );
                assert.ok(step.resources.every((r) => r.change !== "replace" && r.change !== "delete"));
                if (g.route)
                    assert.deepEqual(step.traffic.after.routes, [
                        { color: "green", build: "web@sha256:bbbbbbbbbbbb", when: "header x-beta-user is alice or bob" },
                    ]);
                assert.deepEqual(changeList(await expectStep("dev", canary, flipped, "flip")), ROUTING);
                const finish = await expectStep("dev", flipped, finished, "finish");
                assert.ok(
                    finish.resources.every((r) => r.name.startsWith("web-blue-") || r.name === "web-gate"),
                    JSON.stringify(changeList(finish)),
                );
                assert.equal(finish.capacity.beyondSteadyState.tasks, 0);
            }),
            // One example with every option on (route, stickiness, autoscaling), then a generated one.
            {
                numRuns: 2,
                seed: 11,
                examples: [[{ desiredCount: 2, cpu: 512, percent: 50, stickiness: 600, route: true, autoscaling: true }]],
            },
        );
    });
});
