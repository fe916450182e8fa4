/**
 * Issue 17, item 5: the order inside one `pulumi up` for a release train. Each member's production
 * routing waits for every member's health gate, and a member's routing changes after that of the
 * members it requires (program.ts trainOrder). The engine runs a step only after the steps of
 * everything it depends on (pulumi/pulumi pkg/resource/deploy/step_executor.go), so these
 * dependencies are the order.
 */
import { strict as assert } from "node:assert";
import { Recorded } from "../helpers/mocks";
import { digest, stackConfig } from "../helpers/configs";
import { evaluate, one } from "../helpers/program";
import { servicesRaw } from "../helpers/servicesConfigs";

const GATE = "pulumi-nodejs:dynamic:Resource";
const RULE = "aws:lb/listenerRule:ListenerRule";

/** api (blue v2 live, green v3) and web (requires api 2..3) in the train checkout. */
function trainRaw(webIsDefault: boolean): Record<string, any> {
    const raw = servicesRaw();
    raw.services.api.slots = { blue: { image: digest("b"), provides: 2 }, green: { image: digest("c"), provides: 3 } };
    raw.services.api.traffic = { live: "blue", routes: [{ color: "green", header: { name: "x-beta", values: ["1"] } }] };
    raw.services.web.slots = {
        blue: { image: digest("a"), requires: { api: [2, 3] } },
        green: { image: digest("d"), requires: { api: [2, 3] } },
    };
    if (!webIsDefault) {
        delete raw.loadBalancer;
        raw.services.web.match = { hosts: ["www.example.com"], priority: 1000 };
    }
    raw.trains = { checkout: { services: ["api", "web"] } };
    return raw;
}

const dependsOn = (from: Recorded, to: Recorded) => from.dependencies.includes(to.urn);

describe("release trains: the order inside one pulumi up (issue 17, item 5)", () => {
    it("makes each member's routing wait for every member's gate, and web's rules follow api's (web requires api)", async () => {
        const { resources } = await evaluate("dev", stackConfig(trainRaw(false)));
        const gate = (s: string) => one(resources, GATE, `${s}-gate`);
        const rule = (n: string) => one(resources, RULE, n);
        for (const r of ["api-forward", "api-route-p1"]) {
            assert.ok(dependsOn(rule(r), gate("api")), `${r} waits for api-gate`);
            assert.ok(dependsOn(rule(r), gate("web")), `${r} waits for web-gate`);
            assert.ok(!dependsOn(rule(r), rule("web-forward")), `${r} does not wait for web's routing`);
        }
        const web = rule("web-forward");
        assert.ok(dependsOn(web, gate("web")) && dependsOn(web, gate("api")), "web-forward waits for both gates");
        assert.ok(dependsOn(web, rule("api-forward")) && dependsOn(web, rule("api-route-p1")), "web's routing follows api's");
    });

    it("lets the default service's listeners wait for every member's gate, without a cycle through the rules they carry", async () => {
        const { resources } = await evaluate("dev", stackConfig(trainRaw(true)));
        const listener = one(resources, "aws:lb/listener:Listener", "web-prod-listener");
        assert.ok(dependsOn(listener, one(resources, GATE, "api-gate")), "web's listener waits for api-gate");
        assert.ok(!dependsOn(listener, one(resources, RULE, "api-forward")), "and not for api's rules, which sit on it");
        assert.ok(dependsOn(one(resources, RULE, "api-forward"), one(resources, GATE, "web-gate")), "api-forward waits for web-gate");
    });

    it("adds nothing for services outside a train: each waits for its own gate only", async () => {
        const raw = trainRaw(false);
        delete raw.trains;
        const { resources } = await evaluate("dev", stackConfig(raw));
        const forward = one(resources, RULE, "api-forward");
        assert.ok(!dependsOn(forward, one(resources, GATE, "web-gate")));
        assert.ok(!dependsOn(one(resources, RULE, "web-forward"), forward));
    });
});
