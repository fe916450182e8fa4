/** The traffic plan, as properties over every valid configuration (fast-check). */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { Color, COLORS, parseConfig } from "../../lib/config";
import { candidateColor, colorsWithTraffic, desiredTasks, productionWeights, testListenerTarget } from "../../lib/traffic";
import { digest } from "../helpers/configs";

const color = fc.constantFrom<Color>(...COLORS);
const slot = fc.option(fc.record({ image: fc.constantFrom(digest("a"), digest("b"), digest("c")), idle: fc.boolean() }), {
    nil: undefined,
});

/** Random raw stacks; many are invalid, and parseConfig decides which. */
const rawStack = fc.record({
    live: color,
    canary: fc.option(fc.integer({ min: 1, max: 99 }), { nil: undefined }),
    blue: slot,
    green: slot,
    desiredCount: fc.integer({ min: 1, max: 10 }),
    idleCount: fc.integer({ min: 0, max: 10 }),
    routeTo: fc.option(color, { nil: undefined }),
});

type RawStack = typeof rawStack extends fc.Arbitrary<infer T> ? T : never;

function build(r: RawStack) {
    return {
        service: { name: "web", desiredCount: r.desiredCount, idleCount: Math.min(r.idleCount, r.desiredCount) },
        slots: { blue: r.blue, green: r.green },
        traffic: {
            live: r.live,
            ...(r.canary ? { canary: { percent: r.canary } } : {}),
            ...(r.routeTo ? { routes: [{ color: r.routeTo, sourceIps: ["203.0.113.0/24"] }] } : {}),
        },
    };
}

/** Every valid config the generator reaches (invalid ones are skipped, not counted). */
function forEveryValid(check: (cfg: ReturnType<typeof parseConfig>) => void): void {
    let valid = 0;
    fc.assert(
        fc.property(rawStack, (r) => {
            let cfg;
            try {
                cfg = parseConfig(build(r), "dev");
            } catch {
                return;
            }
            valid++;
            check(cfg);
        }),
        { numRuns: 500 },
    );
    assert.ok(valid > 50, `only ${valid} valid configurations generated`);
}

describe("traffic plan", () => {
    it("weights always sum to 100 and the live colour gets 100 - canary (invariant 1)", () => {
        forEveryValid((cfg) => {
            const w = productionWeights(cfg);
            assert.equal(w.blue + w.green, 100);
            assert.equal(w[cfg.traffic.live], 100 - (cfg.traffic.canary?.percent ?? 0));
        });
    });

    it("every colour with traffic has an image and runs desiredCount tasks (invariant 2)", () => {
        forEveryValid((cfg) => {
            for (const c of colorsWithTraffic(cfg)) {
                assert.ok(cfg.slots[c], `${c} has traffic but no slot`);
                assert.equal(desiredTasks(cfg, c), cfg.service.desiredCount);
                assert.ok(desiredTasks(cfg, c) >= 1);
            }
        });
    });

    it("an empty slot runs no task; an idle one runs idleCount", () => {
        forEveryValid((cfg) => {
            for (const c of COLORS) {
                const slot = cfg.slots[c];
                if (!slot) assert.equal(desiredTasks(cfg, c), 0);
                else if (slot.idle) assert.equal(desiredTasks(cfg, c), cfg.service.idleCount);
            }
        });
    });

    it("the test listener always serves the candidate, the colour that is not live", () => {
        forEveryValid((cfg) => {
            assert.equal(testListenerTarget(cfg), candidateColor(cfg));
            assert.notEqual(candidateColor(cfg), cfg.traffic.live);
        });
    });

    it("gives the canary share to the candidate", () => {
        const cfg = parseConfig(
            {
                service: { name: "web" },
                slots: { blue: { image: digest("a") }, green: { image: digest("b") } },
                traffic: { live: "green", canary: { percent: 30 } },
            },
            "dev",
        );
        assert.deepEqual(productionWeights(cfg), { green: 70, blue: 30 });
        assert.deepEqual(colorsWithTraffic(cfg), ["blue", "green"]);
    });
});
