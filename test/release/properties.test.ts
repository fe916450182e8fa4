/**
 * Property tests: from any valid stack configuration, any sequence of release commands leaves a
 * configuration parseConfig accepts (without relying on runStep's re-validation), weights always
 * sum to 100, the stack file edited through the yaml Document says exactly what the pure model
 * says, and rollback after flip restores the routing from before the flip.
 */
import { strict as assert } from "node:assert";
import fc from "fast-check";
import { Document, parseDocument } from "yaml";
import { COLORS, RawConfig, SchemaSupport, SwitchyardConfig, parseConfig } from "../../lib/config";
import * as release from "../../lib/release";
import { colorsWithTraffic, productionWeights } from "../../lib/traffic";
import { readRaw, renderEdits } from "../../cli/stackFile";
import { digest } from "./fixtures";

const tryParse = (raw: RawConfig, stack = "dev"): SwitchyardConfig | undefined => {
    try {
        return parseConfig(raw, stack);
    } catch {
        return undefined;
    }
};

const image = fc.constantFrom("a", "b", "c", "d").map(digest);
const schemaRaw = fc.oneof(
    fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
    fc.integer({ min: 1, max: 5 }).chain((min) => fc.integer({ min, max: 6 }).map((max) => ({ min, max }))),
);
const idle = fc.constantFrom(false, false, false, true);
const slot = fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.record({ image, schema: fc.option(schemaRaw, { nil: undefined }), idle }) },
    {
        weight: 2,
        arbitrary: fc.record({ build: fc.constantFrom("./app", "./svc"), schema: fc.option(schemaRaw, { nil: undefined }), idle }),
    },
);
const color = fc.constantFrom(...COLORS);
const route = fc.record({ color, sourceIps: fc.constantFrom(["10.0.0.0/8"], ["192.168.0.0/16", "172.16.0.0/12"]) });

/** Drops undefined and `idle: false` so raw values look like hand-written YAML. */
function clean(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === "object") {
        return Object.fromEntries(
            Object.entries(v)
                .filter(([k, x]) => x !== undefined && !(k === "idle" && x === false))
                .map(([k, x]) => [k, clean(x)]),
        );
    }
    return v;
}

const blueGreenRaw = fc.record({
    service: fc.record({
        name: fc.constant("web"),
        desiredCount: fc.integer({ min: 1, max: 4 }),
        idleCount: fc.integer({ min: 0, max: 1 }),
    }),
    slots: fc.record({ blue: slot, green: slot }),
    traffic: fc.record({
        live: color,
        canary: fc.option(
            fc.record({
                percent: fc.integer({ min: 1, max: 99 }),
                stickiness: fc.option(fc.integer({ min: 1, max: 3600 }), { nil: undefined }),
            }),
            { nil: undefined, freq: 3 },
        ),
        routes: fc.option(fc.array(route, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 3 }),
        previous: fc.option(color, { nil: undefined, freq: 3 }),
    }),
    database: fc.option(fc.record({ schema: fc.integer({ min: 1, max: 5 }) }), { nil: undefined }),
});

const rollingRaw = fc
    .record({
        strategy: fc.constant("rolling"),
        service: fc.constant({ name: "web" }),
        live: color,
        slot: fc.oneof(fc.record({ image, schema: fc.option(schemaRaw, { nil: undefined }) }), fc.record({ build: fc.constant("./app") })),
        database: fc.option(fc.record({ schema: fc.integer({ min: 1, max: 5 }) }), { nil: undefined }),
    })
    .map(({ live, slot: s, ...rest }) => ({ ...rest, slots: { [live]: s }, traffic: { live } }));

/** Any valid configuration (mostly blue-green, some rolling). */
const validRaw = fc
    .oneof({ weight: 4, arbitrary: blueGreenRaw }, { weight: 1, arbitrary: rollingRaw })
    .map((r) => clean(r) as Record<string, unknown>)
    .filter((r) => tryParse(r) !== undefined);

type Command =
    | { kind: "start"; image?: string; build?: string; schema?: SchemaSupport }
    | { kind: "canary"; percent: number }
    | { kind: "flip"; digest?: string }
    | { kind: "rollback" }
    | { kind: "finish" }
    | { kind: "promote"; source: Record<string, unknown> };

const schemaSupport: fc.Arbitrary<SchemaSupport> = schemaRaw.map((s) => (Array.isArray(s) ? { versions: s } : s));
const command: fc.Arbitrary<Command> = fc.oneof(
    fc.record({ kind: fc.constant("start" as const), image, schema: fc.option(schemaSupport, { nil: undefined }) }),
    fc.record({ kind: fc.constant("start" as const), build: fc.constant("./app"), schema: fc.option(schemaSupport, { nil: undefined }) }),
    fc.record({ kind: fc.constant("canary" as const), percent: fc.integer({ min: 1, max: 99 }) }),
    fc.record({ kind: fc.constant("flip" as const), digest: fc.option(image, { nil: undefined }) }),
    fc.record({ kind: fc.constant("flip" as const), digest: fc.option(image, { nil: undefined }) }),
    fc.constant({ kind: "rollback" as const }),
    fc.constant({ kind: "finish" as const }),
    fc.record({ kind: fc.constant("promote" as const), source: validRaw }),
);

function step(cfg: SwitchyardConfig, cmd: Command): release.StepResult {
    switch (cmd.kind) {
        case "start":
            return release.start(cfg, { image: cmd.image, build: cmd.build, schema: cmd.schema });
        case "canary":
            return release.canary(cfg, { percent: cmd.percent });
        case "flip":
            return release.flip(cfg, { digest: cmd.digest });
        case "rollback":
            return release.rollback(cfg);
        case "finish":
            return release.finish(cfg);
        case "promote":
            return release.promote(parseConfig(cmd.source, "source"), cfg);
    }
}

function toYaml(raw: Record<string, unknown>): string {
    return new Document({ config: Object.fromEntries(Object.entries(raw).map(([k, v]) => [`switchyard:${k}`, v])) }).toString();
}

function checkInvariants(cfg: SwitchyardConfig): void {
    const w = productionWeights(cfg);
    assert.equal(w.blue + w.green, 100);
    assert.equal(w[cfg.traffic.live], 100 - (cfg.strategy === "blue-green" ? (cfg.traffic.canary?.percent ?? 0) : 0));
    for (const c of colorsWithTraffic(cfg)) {
        assert.ok(cfg.slots[c] && !cfg.slots[c]!.idle, `${c} has traffic, so it has a warm slot`);
    }
}

describe("release steps (properties)", () => {
    it("any command sequence from any valid state leaves a valid config; the YAML edit matches the model", () => {
        const succeeded = new Map<string, number>();
        fc.assert(
            fc.property(validRaw, fc.array(command, { maxLength: 8 }), (initial, commands) => {
                let raw = initial;
                let text = toYaml(raw);
                for (const cmd of commands) {
                    const cfg = parseConfig(raw, "dev");
                    const result = step(cfg, cmd);
                    if (!result.ok) {
                        assert.ok(result.refusal.length > 0 && !result.refusal.includes("\n"), `one-line refusal: ${result.refusal}`);
                        continue;
                    }
                    const next = release.applyEdits(raw, result.edits);
                    const nextCfg = parseConfig(next, "dev"); // throws if a step forgot a check
                    checkInvariants(nextCfg);
                    text = renderEdits({ text }, result.edits);
                    assert.deepEqual(readRaw(parseDocument(text)), next);
                    raw = next;
                    succeeded.set(cmd.kind, (succeeded.get(cmd.kind) ?? 0) + 1);
                }
            }),
            { numRuns: 300 },
        );
        // Not vacuous: every command really changed configurations along the way.
        for (const kind of ["start", "canary", "flip", "rollback", "finish", "promote"]) {
            assert.ok(
                (succeeded.get(kind) ?? 0) >= 5,
                `${kind} succeeded ${succeeded.get(kind) ?? 0} times: ${JSON.stringify([...succeeded])}`,
            );
        }
    });

    it("rollback after flip restores the routing from before the flip, without its canary and its routes to the flipped-to colour", () => {
        fc.assert(
            fc.property(validRaw, image, (raw, pin) => {
                const before = parseConfig(raw, "dev");
                const flipped = release.flip(before, { digest: pin });
                // Not a flip already made (traffic.previous is the candidate): that one is a no-op.
                fc.pre(flipped.ok && !flipped.already);
                if (!flipped.ok) return;
                const mid = release.applyEdits(raw, flipped.edits);
                const midCfg = parseConfig(mid, "dev");
                assert.notEqual(midCfg.traffic.live, before.traffic.live);
                const back = release.rollback(midCfg);
                assert.ok(back.ok, !back.ok ? back.refusal : "");
                const after = parseConfig(release.applyEdits(mid, back.edits), "dev");
                const failed = midCfg.traffic.live;
                assert.deepEqual(after.traffic, {
                    ...before.traffic,
                    canary: undefined,
                    routes: before.traffic.routes.filter((r) => r.color !== failed),
                });
                assert.deepEqual(productionWeights(after), { [before.traffic.live]: 100, [failed]: 0 });
                // The last safe routing: no request of any kind still reaches the colour rolled back from.
                assert.ok(!colorsWithTraffic(after).includes(failed));
                const rawAfter = release.applyEdits(mid, back.edits) as { traffic: Record<string, unknown> };
                const { canary: _dropped, routes, ...trafficBefore } = raw.traffic as Record<string, unknown>;
                void _dropped;
                const kept = ((routes as { color: string }[] | undefined) ?? []).filter((r) => r.color !== failed);
                assert.deepEqual(rawAfter.traffic, kept.length > 0 ? { ...trafficBefore, routes: kept } : trafficBefore);
            }),
            { numRuns: 300 },
        );
    });

    it("the production weights of any valid state sum to 100 and only warm colours get traffic", () => {
        fc.assert(
            fc.property(validRaw, (raw) => checkInvariants(parseConfig(raw, "dev"))),
            { numRuns: 200 },
        );
    });
});
