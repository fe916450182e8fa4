/**
 * Invariant 12: services are independent. Any release step of one service (start, canary, flip,
 * rollback, finish, pin) creates, updates, replaces or deletes nothing that belongs to another
 * service or to the shared edge, and so never changes the priority of a rule it does not own.
 * Property test over stacks of two or three services on one load balancer.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { RawConfig, parseStack } from "../../lib/config";
import { diffEvaluations } from "../../lib/plan/diff";
import * as release from "../../lib/release";
import { Recorded } from "../helpers/mocks";
import { digest, stackConfig } from "../helpers/configs";
import { evaluate } from "../helpers/program";

const NAMES = ["web", "api", "img"];

/** `count` services, web the default; each live on its own image with a filled candidate slot. */
function stackOf(count: number): Record<string, any> {
    const services: Record<string, unknown> = {};
    NAMES.slice(0, count).forEach((name, i) => {
        services[name] = {
            match: i === 0 ? { priority: 40000 } : { paths: [`/${name}`, `/${name}/*`], priority: i * 100 },
            service: { port: 8080 },
            slots: { blue: { image: digest(String.fromCharCode(97 + i)) }, green: { image: digest(String.fromCharCode(100 + i)) } },
            traffic: { live: "blue" },
        };
    });
    return { testAccess: { cidrs: ["203.0.113.0/24"] }, loadBalancer: { default: "web" }, services };
}

type Step = (cfg: Parameters<typeof release.flip>[0]) => release.StepResult;
const STEPS: Record<string, Step> = {
    start: (cfg) => release.start(cfg, { image: digest("f") }),
    canary: (cfg) => release.canary(cfg, { percent: 25 }),
    flip: (cfg) => release.flip(cfg),
    rollback: (cfg) => release.rollback(cfg),
    finish: (cfg) => release.finish(cfg),
    pin: (cfg) => release.pin(cfg),
};

/** The raw config after `step` of `service`, or undefined when the step is refused or changes nothing. */
function stepped(raw: Record<string, any>, service: string, step: Step): Record<string, any> | undefined {
    const spec = parseStack(raw as RawConfig, "dev");
    const cfg = spec.services.find((s) => s.service.name === service)!;
    const result = step(cfg);
    if (!result.ok || result.edits.length === 0) return undefined;
    const scoped = result.edits.map((e) => ({ ...e, path: [...cfg.keyPath, ...e.path] as unknown as release.EditPath }));
    const after = release.applyEdits(raw as RawConfig, scoped);
    parseStack(after as RawConfig, "dev"); // still a valid stack
    return after;
}

/** Who a resource belongs to: a service by its name prefix (components name children `${service}-…`), or the edge. */
const ownerOf = (r: { name: string }) =>
    NAMES.find((n) => r.name === n || r.name.startsWith(`${n}-`)) ?? (r.name.startsWith("edge") ? "edge" : "?");

describe("invariant 12: a release step of one service changes nothing of another", function () {
    this.timeout(120000);
    const evaluations = new Map<string, Recorded[]>();
    const resourcesOf = async (raw: Record<string, any>) => {
        const key = JSON.stringify(raw);
        if (!evaluations.has(key)) evaluations.set(key, (await evaluate("dev", stackConfig(raw))).resources);
        return evaluations.get(key)!;
    };

    it("holds over sequences of steps of any service, in stacks of two and three services", async () => {
        const applied = new Set<string>();
        await fc.assert(
            fc.asyncProperty(
                fc.integer({ min: 2, max: 3 }),
                fc.array(fc.tuple(fc.nat(2), fc.constantFrom(...Object.keys(STEPS))), { minLength: 1, maxLength: 4 }),
                async (count, steps) => {
                    let raw = stackOf(count);
                    for (const [which, stepName] of steps) {
                        const service = NAMES[which % count];
                        const next = stepped(raw, service, STEPS[stepName]);
                        if (!next) continue;
                        const changes = diffEvaluations(await resourcesOf(raw), await resourcesOf(next));
                        const foreign = changes.filter((c) => ownerOf(c) !== service).map((c) => `${c.change} ${c.type} ${c.name}`);
                        assert.deepEqual(foreign, [], `${stepName} of ${service}`);
                        applied.add(`${stepName} of ${service}`);
                        raw = next;
                    }
                },
            ),
            { numRuns: 12, seed: 16 },
        );
        // The property judged real steps of every service, not only refusals.
        for (const service of NAMES)
            assert.ok(
                [...applied].some((a) => a.endsWith(` of ${service}`)),
                `${service}: ${[...applied]}`,
            );
        for (const step of ["start", "canary", "flip"])
            assert.ok(
                [...applied].some((a) => a.startsWith(step)),
                `${step}: ${[...applied]}`,
            );
    });

    it("sees a change of another service's resource (the check can fail)", async () => {
        const raw = stackOf(2);
        const next = structuredClone(raw);
        next.services.web.traffic = { live: "blue", canary: { percent: 10 } };
        const changes = diffEvaluations(await resourcesOf(raw), await resourcesOf(next));
        assert.ok(changes.length > 0 && changes.every((c) => ownerOf(c) === "web"), JSON.stringify(changes.map((c) => c.name)));
        assert.ok(changes.some((c) => ownerOf(c) !== "api"));
    });
});
