/**
 * `switchyard:trains` (issue 17 item 2): services released together, in order (a service after
 * those its builds require), steps shaped like `switchyard:rollout.steps` (default: its default),
 * a service in one train at most; every refusal at once, with its exact message.
 */
import { strict as assert } from "node:assert";
import { parseConfig, parseStack } from "../../lib/config";
import { DEFAULT_ROLLOUT } from "../../lib/parse/rollout";
import { ConfigError } from "../../lib/problems";
import { trainNamed } from "../../lib/stackSpec";
import { baseRaw, digest } from "../helpers/configs";
import { servicesRaw } from "../helpers/servicesConfigs";

/** web (default) and api, web's builds requiring api, plus a third service `auth` that nothing requires. */
function stack(trains: unknown): Record<string, any> {
    const raw = servicesRaw();
    raw.services.api.slots = { blue: { image: digest("b"), provides: 2 }, green: { image: digest("c"), provides: 3 } };
    raw.services.api.traffic = { live: "blue" };
    raw.services.web.slots = { blue: { image: digest("a"), requires: { api: [2, 3] } } };
    raw.services.auth = {
        match: { paths: ["/auth/*"], priority: 200 },
        service: { port: 7070 },
        slots: { blue: { image: digest("e") } },
        traffic: { live: "blue" },
    };
    raw.trains = trains;
    return raw;
}

function problemsOf(raw: Record<string, any>): string[] {
    try {
        parseStack(raw, "dev");
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return [...e.problems];
    }
    assert.fail("parseStack accepted the stack");
}

describe("switchyard:trains (issue 17)", () => {
    it("reads each train: its services in order and the rollout's default steps when none are given", () => {
        const spec = parseStack(stack({ checkout: { services: ["api", "web"] } }), "dev");
        assert.deepEqual(spec.trains, [{ name: "checkout", services: ["api", "web"], steps: DEFAULT_ROLLOUT.steps }]);
        assert.deepEqual(trainNamed(spec, "checkout"), spec.trains![0]);
        assert.equal(trainNamed(spec, "search"), undefined);
    });

    it("reads steps with the rollout step parser", () => {
        const spec = parseStack(
            stack({
                checkout: { services: ["api", "web", "auth"], steps: [{ canary: 5, bakeSeconds: 60 }, { pause: true }, { flip: true }] },
            }),
            "dev",
        );
        assert.deepEqual(spec.trains, [
            {
                name: "checkout",
                services: ["api", "web", "auth"],
                steps: [{ kind: "canary", percent: 5, bakeSeconds: 60 }, { kind: "pause" }, { kind: "flip", bakeSeconds: 300 }],
            },
        ]);
    });

    it("has no trains in a stack without switchyard:trains", () => {
        assert.equal(parseStack(servicesRaw(), "dev").trains, undefined);
        assert.equal(parseStack(baseRaw(), "dev").trains, undefined);
    });

    it("refuses a service listed before one its builds require", () => {
        assert.deepEqual(problemsOf(stack({ checkout: { services: ["web", "api"] } })), [
            "switchyard:trains.checkout.services: web is listed before api, which its builds require; a service moves after " +
                "those it requires: list api before web",
        ]);
    });

    it("refuses two services that require each other: neither can move first", () => {
        const raw = stack({ checkout: { services: ["api", "web"] } });
        raw.services.api.slots.green.requires = { web: [1] };
        raw.services.web.slots.blue.provides = 1;
        assert.deepEqual(problemsOf(raw), [
            "switchyard:trains.checkout.services: api and web require each other, so neither can move first; remove one of the " +
                "requirements (a build of one must accept both versions of the other)",
        ]);
    });

    it("refuses a service in two trains", () => {
        assert.deepEqual(problemsOf(stack({ checkout: { services: ["api", "web"] }, login: { services: ["auth", "api"] } })), [
            "switchyard:trains.login.services: api is in train checkout too; a service has one candidate colour, so two trains " +
                "would move the same traffic: keep api in one train",
        ]);
    });

    it("refuses unknown, repeated and too few services, each by its index", () => {
        assert.deepEqual(
            problemsOf(stack({ checkout: { services: ["api", "cart", "api"] }, login: { services: ["auth"] }, none: { services: [] } })),
            [
                "switchyard:trains.checkout.services[1] 'cart' is not a service of this stack; use one of: web, api, auth",
                "switchyard:trains.checkout.services[2] 'api' is listed twice (also switchyard:trains.checkout.services[0]); list each service once",
                "switchyard:trains.login.services must list at least 2 services: a train releases services together; for one service " +
                    "use rollout --service auth",
                "switchyard:trains.none.services must list at least 2 services: a train releases services together; for one service " +
                    "use rollout --service <name>",
            ],
        );
    });

    it("refuses a missing or malformed services list, unknown keys and a bad train name", () => {
        assert.deepEqual(
            problemsOf(
                stack({ checkout: { steps: [{ flip: true }] }, Login: { services: "auth, api", order: 1 }, x: { services: [1, 2] } }),
            ),
            [
                "switchyard:trains.checkout.services is required: the services this train releases, in order (a service after " +
                    "those it requires), e.g. services: [api, web]",
                "switchyard:trains.Login: a train's name is given to --train and names its commits, so it must be 1-63 lowercase " +
                    "letters, digits or single hyphens, starting with a letter and not ending with a hyphen; rename the key",
                "switchyard:trains.Login.order is not a known key; use one of: services, steps",
                "switchyard:trains.Login.services must be a list of service names, e.g. [api, web] (got 'auth, api')",
                "switchyard:trains.x.services must be a list of service names, e.g. [api, web] (got [1,2])",
            ],
        );
    });

    it("refuses bad steps, named under the train's key", () => {
        assert.deepEqual(problemsOf(stack({ checkout: { services: ["api", "web"], steps: [{ canary: 150 }, { finish: true }] } })), [
            "switchyard:trains.checkout.steps[0].canary must be a whole number 1..99 (got 150)",
            "switchyard:trains.checkout.steps[1] (finish) comes before any flip: finish scales down the old colour, which exists " +
                "only after the flip",
            "switchyard:trains.checkout.steps needs one step flip: true (the candidate becomes live), after the canaries",
        ]);
    });

    it("refuses a value that is no map of trains, and an empty one", () => {
        assert.deepEqual(problemsOf(stack(["checkout"])), ['switchyard:trains must be a map of keys (got ["checkout"])']);
        assert.deepEqual(problemsOf(stack({})), ["switchyard:trains must name at least one train, or be removed"]);
    });

    it("the single-service form refuses trains (one service), with its other problems at once", () => {
        const raw = baseRaw();
        raw.trains = { checkout: { services: ["web"] } };
        raw.traffic.live = "purple";
        assert.deepEqual(problemsOf(raw), [
            "switchyard:trains needs switchyard:services: a train releases several services together, and this stack has one; " +
                "remove switchyard:trains, or move the service's keys into switchyard:services.<name> beside the services it goes with",
            "switchyard:traffic.live must be one of blue, green (got 'purple')",
        ]);
        assert.throws(() => parseConfig({ ...baseRaw(), trains: {} }, "dev"), {
            name: "ConfigError",
            problems: ["switchyard:trains belongs to the many-services form, which parseConfig does not read: use parseStack"],
        });
    });
});
