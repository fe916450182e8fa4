/**
 * Reality: the routing rehearsal (issue 14, item 5 and "make the classes impossible to return").
 * Each release step's change of listeners, listener rules and target groups is applied to moto's
 * elbv2 in the Pulumi engine's order (test/helpers/engineOrder.ts) with the calls the AWS provider
 * makes (test/helpers/rehearsal.ts), so a collision in the middle of an update fails here. Two
 * listener rules of one listener can never hold one priority, not even for a moment: CreateRule
 * and SetRulePriorities fail with PriorityInUse
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetRulePriorities.html),
 * and moto enforces it (moto/elbv2/models.py, create_rule and set_rule_priorities).
 */
import * as fc from "fast-check";
import { strict as assert } from "node:assert";
import { isDeepStrictEqual } from "node:util";
import { SwitchyardConfig, parseConfig } from "../../lib/config";
import { ConfigError } from "../../lib/problems";
import * as release from "../../lib/release";
import type { Recorded } from "../../lib/program/mocks";
import { baseRaw, digest, stackConfig } from "../helpers/configs";
import { OrderOptions, engineOrder } from "../helpers/engineOrder";
import { useMoto } from "../helpers/moto";
import { evaluate } from "../helpers/program";
import { RULE, expectedListeners } from "../helpers/listenerViews";
import { Rehearsal, RehearsalError } from "../helpers/rehearsal";

type Raw = Record<string, any>;
const STACK = "dev";

/** Evaluations of the program, one per distinct stack configuration (about 100 ms each). */
const evaluations = new Map<string, Recorded[]>();
async function resourcesOf(raw: Raw): Promise<Recorded[]> {
    const key = JSON.stringify(raw);
    if (!evaluations.has(key)) evaluations.set(key, (await evaluate(STACK, stackConfig(raw))).resources);
    return evaluations.get(key)!;
}

/**
 * One `pulumi up` from the stack file `from` (already applied; none: an empty stack) to `to`,
 * rehearsed; then moto's listeners must be what `to` says.
 */
async function up(rehearsal: Rehearsal, from: Raw | undefined, to: Raw, order: OrderOptions = {}): Promise<void> {
    const before = from ? await resourcesOf(from) : [];
    const after = await resourcesOf(to);
    const operations = engineOrder(before, after, order);
    await rehearsal.apply(operations);
    assert.deepEqual(await rehearsal.observed(), expectedListeners(after));
}

/** A release step: the next stack file, or undefined when the step refuses or the file would be invalid. */
type Step = { readonly name: string; readonly next: (raw: Raw) => Raw | undefined };

/** fast-check prints a step in a counterexample by its name. */
const named = (step: Step): Step => Object.assign(step, { [fc.toStringMethod]: () => step.name });

function releaseStep(name: string, step: (cfg: SwitchyardConfig) => release.StepResult): Step {
    return named({
        name,
        next: (raw) => {
            const outcome = release.runStep(raw, STACK, step);
            return outcome.ok ? outcome.raw : undefined;
        },
    });
}

/** An edit of `traffic.routes` by hand (or by a route command), kept only when the file stays valid. */
function routeEdit(name: string, edit: (routes: readonly Raw[]) => Raw[] | undefined): Step {
    return named({
        name,
        next: (raw) => {
            const routes = edit(raw.traffic.routes ?? []);
            if (!routes) return undefined;
            const next = structuredClone(raw);
            if (routes.length > 0) next.traffic.routes = routes;
            else delete next.traffic.routes;
            try {
                parseConfig(next, STACK);
                return next;
            } catch (e) {
                if (e instanceof ConfigError) return undefined;
                throw e;
            }
        },
    });
}

const removeRoute = (at: number) =>
    routeEdit(`remove route ${at}`, (routes) => (at < routes.length ? routes.filter((_, i) => i !== at) : undefined));
const addRoute = (at: number | "end", route: Raw) =>
    routeEdit(`add route at ${at}`, (routes) => {
        const i = at === "end" ? routes.length : at;
        return i <= routes.length ? [...routes.slice(0, i), route, ...routes.slice(i)] : undefined;
    });

const FLIP = releaseStep("flip", (cfg) => release.flip(cfg));
const ROLLBACK = releaseStep("rollback", (cfg) => release.rollback(cfg));
const FINISH = releaseStep("finish", (cfg) => release.finish(cfg));
const PIN = releaseStep("pin", (cfg) => release.pin(cfg));

/** Route matches for generated routes (cookie routes are not rehearsable: test/helpers/rehearsal.ts). */
const MATCHES: readonly Raw[] = [
    { header: { name: "x-beta-user", values: ["alice", "bob"] } },
    { sourceIps: ["203.0.113.0/24"] },
    { hosts: ["beta.example.com"] },
    { query: { beta: "1" } },
];

/** A route to either colour, with an explicit priority or without one (its position in the list). */
const routeArb: fc.Arbitrary<Raw> = fc
    .record({
        color: fc.constantFrom("blue", "green"),
        priority: fc.option(fc.constantFrom(10, 20, 30, 40), { nil: undefined }),
        match: fc.constantFrom(...MATCHES),
    })
    .map(({ color, priority, match }) => ({ color, ...(priority === undefined ? {} : { priority }), ...match }));

/** The release steps of lib/release.ts, and route edits by position. */
const stepArb: fc.Arbitrary<Step> = fc.oneof(
    fc.constantFrom("c", "d").map((hex) => releaseStep(`start ${hex}`, (cfg) => release.start(cfg, { image: digest(hex) }))),
    fc.integer({ min: 1, max: 99 }).map((percent) => releaseStep(`canary ${percent}`, (cfg) => release.canary(cfg, { percent }))),
    fc.constantFrom(FLIP, ROLLBACK, FINISH, PIN),
    fc.tuple(fc.nat(3), routeArb).map(([at, route]) => addRoute(at, route)),
    fc.nat(3).map(removeRoute),
);

/** blue live on image A, green holding image B (started), no traffic on green yet. */
function started(): Raw {
    const raw = baseRaw();
    raw.slots.green = { image: digest("b") };
    // A public range: a private one only draws the warning that it admits no one (issue 14, item 3).
    raw.testAccess = { cidrs: ["198.51.100.0/24"] };
    return raw;
}

describe("reality: the routing rehearsal on moto (engine order, provider calls)", function () {
    this.timeout(60000);
    const moto = useMoto();

    it("fails a step in which a rule takes a priority another rule still holds (SetRulePriorities, CreateRule)", async () => {
        // The rehearsal can fail: moto refuses a priority in use as AWS does (moto/elbv2/models.py,
        // set_rule_priorities and create_rule). Both steps are made up from one real evaluation.
        const raw = started();
        raw.traffic.routes = [
            { color: "green", priority: 10, header: { name: "x-beta-user", values: ["alice"] } },
            { color: "green", priority: 20, sourceIps: ["203.0.113.0/24"] },
        ];
        const deployed = await resourcesOf(raw);
        const rule = (name: string) => deployed.find((r) => r.type === RULE && r.name === name)!;
        const renumbered = deployed
            .filter((r) => r !== rule("web-route-p20"))
            .map((r) => (r === rule("web-route-p10") ? { ...r, inputs: { ...r.inputs, priority: 20 } } : r));
        const extra = rule("web-route-p20");
        const doubled = [
            ...deployed,
            { ...extra, name: "web-route-extra", urn: `${extra.urn}-extra`, inputs: { ...extra.inputs, priority: 10 } },
        ];

        const rehearsal = await Rehearsal.open(moto.endpoint);
        await rehearsal.apply(engineOrder([], deployed));
        const renumbering = engineOrder(deployed, renumbered);
        assert.deepEqual(
            renumbering.map((op) => `${op.kind} ${op.name} ${op.properties.join(",")}`),
            ["update web-route-p10 priority", "delete web-route-p20 "],
        );
        await assert.rejects(rehearsal.apply(renumbering), (e) => {
            assert.ok(e instanceof RehearsalError);
            assert.deepEqual([e.call, e.code, e.operation.name], ["SetRulePriorities", "PriorityInUseException", "web-route-p10"]);
            return true;
        });
        await assert.rejects(rehearsal.apply(engineOrder(deployed, doubled)), (e) => {
            assert.ok(e instanceof RehearsalError);
            assert.deepEqual([e.call, e.code, e.operation.name], ["CreateRule", "PriorityInUseException", "web-route-extra"]);
            return true;
        });
    });

    it("rolls back a flip that removes the first of two routes with priorities 10 and 20, without PriorityInUse", async () => {
        // After a flip to green, a route to green (10) and one to blue (20); rollback removes the
        // route to green, the colour it leaves (lib/release.ts rollback). Named by list index,
        // `route-0` was updated to priority 20 (SetRulePriorities) while `route-1` still held it,
        // because the engine deletes `route-1` only after every update.
        const flipped = started();
        flipped.traffic = {
            live: "green",
            previous: "blue",
            routes: [
                { color: "green", priority: 10, header: { name: "x-beta-user", values: ["alice"] } },
                { color: "blue", priority: 20, sourceIps: ["203.0.113.0/24"] },
            ],
        };
        const rolledBack = ROLLBACK.next(flipped);
        assert.deepEqual(rolledBack?.traffic, { live: "blue", routes: [{ color: "blue", priority: 20, sourceIps: ["203.0.113.0/24"] }] });

        const rehearsal = await Rehearsal.open(moto.endpoint);
        await up(rehearsal, undefined, flipped);
        const deployed = rehearsal.calls.length;
        await up(rehearsal, flipped, rolledBack!);
        assert.deepEqual(rehearsal.calls.slice(deployed), [
            "ModifyListener web-test-listener",
            "ModifyListener web-prod-listener",
            "DeleteRule web-route-p10",
        ]);
        const [production] = await rehearsal.observed();
        assert.deepEqual(production.rules, [{ priority: 20, conditions: ["source-ip 203.0.113.0/24"], action: "forward web-blue-tg" }]);
        assert.equal(production.defaultAction, "forward web-blue-tg=100 web-green-tg=0 stickiness=off");
    });

    it("applies every pair of route and release steps, and the reverse of each, with no rule changing its priority", async function () {
        this.timeout(120000);
        // Routes with explicit priorities (10, 30) and one without (its position: 2).
        const initial = started();
        initial.traffic.routes = [
            { color: "green", priority: 10, header: { name: "x-beta-user", values: ["alice"] } },
            { color: "green", sourceIps: ["203.0.113.0/24"] },
            { color: "green", priority: 30, hosts: ["beta.example.com"] },
        ];
        const steps: Step[] = [
            removeRoute(0),
            addRoute(0, { color: "green", query: { beta: "1" } }),
            addRoute("end", { color: "green", priority: 40, header: { name: "x-canary", values: ["yes"] } }),
            FLIP,
            ROLLBACK,
        ];
        const rehearsal = await Rehearsal.open(moto.endpoint);
        const walk = async (from: Raw, to: Raw, label: string) => {
            try {
                await up(rehearsal, from, to);
            } catch (e) {
                throw new Error(`${label}: ${(e as Error).message}`, { cause: e });
            }
        };
        await up(rehearsal, undefined, initial);
        const unchanged: string[] = [];
        let pairs = 0;
        for (const first of steps) {
            const a = first.next(initial);
            if (!a || isDeepStrictEqual(a, initial)) {
                unchanged.push(first.name);
                continue;
            }
            await walk(initial, a, first.name);
            for (const second of steps) {
                const b = second.next(a);
                // Refused, or a no-op run again (issue 15, item 10): nothing to apply.
                if (!b || isDeepStrictEqual(b, a)) {
                    unchanged.push(`${first.name}, then ${second.name}`);
                    continue;
                }
                await walk(a, b, `${first.name}, then ${second.name}`);
                await walk(b, a, `${first.name}, then ${second.name}, reverted`);
                pairs++;
            }
            await walk(a, initial, `${first.name}, reverted`);
        }
        // The pairs that change nothing (refused by the release tool or the validator): the walk covered all the others.
        assert.deepEqual(unchanged, [
            "add route at end, then add route at end",
            "flip, then flip",
            "rollback, then remove route 0",
            "rollback, then rollback",
        ]);
        assert.equal(pairs, 5 * 5 - 4);
        // Named by priority, a rule that stays keeps its priority: no step renumbers one.
        assert.deepEqual(
            rehearsal.calls.filter((c) => c.startsWith("SetRulePriorities")),
            [],
        );
    });

    it("property: any sequence of release steps applies in either order of independent steps, as the stack file says", async function () {
        this.timeout(120000);
        await fc.assert(
            fc.asyncProperty(
                fc.array(routeArb, { maxLength: 3 }),
                fc.array(stepArb, { minLength: 1, maxLength: 3 }),
                fc.constantFrom<OrderOptions["independent"]>("registration", "reverse"),
                async (routes, steps, independent) => {
                    const initial = started();
                    const explicit = new Set<number>();
                    // The validator refuses two routes with one priority; keep the first of each.
                    const unique = routes.filter(
                        (r) => r.priority === undefined || (!explicit.has(r.priority) && explicit.add(r.priority)),
                    );
                    if (unique.length > 0) initial.traffic.routes = unique;
                    const rehearsal = await Rehearsal.open(moto.endpoint);
                    const order = { independent };
                    await up(rehearsal, undefined, initial, order);
                    let current = initial;
                    const taken: string[] = [];
                    for (const step of steps) {
                        const next = step.next(current);
                        if (!next) continue;
                        taken.push(step.name);
                        try {
                            await up(rehearsal, current, next, order);
                        } catch (e) {
                            const context = `routes ${JSON.stringify(unique)}, steps ${taken.join(", ")} (${independent})`;
                            throw new Error(`${context}: ${(e as Error).message}`, { cause: e });
                        }
                        current = next;
                    }
                    assert.deepEqual(
                        rehearsal.calls.filter((c) => c.startsWith("SetRulePriorities")),
                        [],
                    );
                },
            ),
            {
                numRuns: 5,
                // First, always: the first of two routes with explicit priorities removed (the regression above).
                examples: [
                    [
                        [
                            { color: "green", priority: 10, ...MATCHES[0] },
                            { color: "green", priority: 20, ...MATCHES[1] },
                        ],
                        [removeRoute(0)],
                        "registration",
                    ],
                ],
            },
        );
    });

    it("takes over rules deployed under their index names (aliases), with no call on any rule", async () => {
        // Stacks deployed before rules were named by priority hold `web-route-<index>`; the engine
        // finds a resource by its aliases when its URN is not in the state (step_generator.go,
        // generateSteps), so the first update keeps those rules instead of creating each again
        // (CreateRule with a priority the old rule still holds: PriorityInUse).
        const raw = started();
        raw.traffic.routes = [
            { color: "green", priority: 10, header: { name: "x-beta-user", values: ["alice"] } },
            { color: "green", priority: 20, sourceIps: ["203.0.113.0/24"] },
        ];
        const now = await resourcesOf(raw);
        const indexNamed = now.map((r) => {
            if (r.type !== RULE) return r;
            const [name] = r.aliasNames;
            return { ...r, name, urn: r.urn.slice(0, r.urn.lastIndexOf("::") + 2) + name, aliasNames: [] };
        });
        assert.deepEqual(
            indexNamed
                .filter((r) => r.type === RULE)
                .map((r) => `${r.name} ${r.inputs.priority}`)
                .sort(),
            ["web-route-0 10", "web-route-1 20"],
        );
        const rehearsal = await Rehearsal.open(moto.endpoint);
        await rehearsal.apply(engineOrder([], indexNamed));
        const deployed = rehearsal.calls.length;
        const upgrade = engineOrder(indexNamed, now);
        assert.deepEqual(upgrade.map((op) => `${op.kind} ${op.name} (was ${op.formerName})`).sort(), [
            "alias web-route-p10 (was web-route-0)",
            "alias web-route-p20 (was web-route-1)",
        ]);
        await rehearsal.apply(upgrade);
        assert.deepEqual(rehearsal.calls.slice(deployed), []);
        assert.deepEqual(await rehearsal.observed(), expectedListeners(now));
    });

    it("replaces the target groups of a port change before the listeners move to them, deleting the old ones last", async () => {
        // port is ForceNew on a target group (lib/plan/replacements.ts); the engine creates the
        // replacement first and deletes the old one after every update (create-before-delete), so
        // DeleteTargetGroup never meets a listener still using it (ResourceInUse).
        const before = started();
        const after = structuredClone(before);
        after.service.port = 9090;
        const rehearsal = await Rehearsal.open(moto.endpoint);
        await up(rehearsal, undefined, before);
        const deployed = rehearsal.calls.length;
        await up(rehearsal, before, after);
        assert.deepEqual(rehearsal.calls.slice(deployed), [
            "CreateTargetGroup web-blue-tg",
            "ModifyTargetGroupAttributes web-blue-tg",
            "CreateTargetGroup web-green-tg",
            "ModifyTargetGroupAttributes web-green-tg",
            "ModifyListener web-test-listener",
            "ModifyListener web-prod-listener",
            "DeleteTargetGroup web-green-tg",
            "DeleteTargetGroup web-blue-tg",
        ]);
    });
});
