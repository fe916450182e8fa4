/**
 * Issue 16: the single-service keys keep every resource's name and URN, and moving a
 * single-service stack into `switchyard:services` (the same service as the default) replaces and
 * deletes nothing. test/fixtures/urns-e15b73c.json holds the URNs the committed stacks had at
 * e15b73c (the last landing before many services), in the engine's format (the parents' full type
 * chain, lib/program/mocks.ts engineUrn). The engine finds an old resource by its URN first, then
 * by its aliases (pulumi/pulumi pkg/resource/deploy/step_generator.go, generateSteps), so an old
 * URN that is some resource's alias is the same resource under a new URN, not a replacement.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { engineUrn } from "../../lib/program/mocks";
import { Recorded } from "../helpers/mocks";
import { ROOT, evaluate, stackFileConfig } from "../helpers/program";

const BEFORE: Record<string, string[]> = JSON.parse(readFileSync(path.join(ROOT, "test", "fixtures", "urns-e15b73c.json"), "utf8"));
const urnsOf = (resources: Recorded[]) => resources.map((r) => engineUrn(r, resources)).sort();

/** The same stack in the services form: its service under its name, as the default. */
function movedIntoServices(config: Record<string, unknown>): Record<string, unknown> {
    const moved: Record<string, unknown> = {};
    const service: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
        const local = key.replace(/^switchyard:/, "");
        if (["service", "slots", "traffic", "rollout", "alarms", "registry", "database", "strategy"].includes(local))
            service[local] = value;
        else moved[key] = value;
    }
    const { name, ...settings } = service.service as Record<string, unknown>;
    moved["switchyard:services"] = { [String(name)]: { ...service, service: settings, match: { priority: 40000 } } };
    moved["switchyard:loadBalancer"] = { default: name };
    return moved;
}

describe("URN continuity (issue 16)", () => {
    for (const stack of ["dev", "prod"]) {
        it(`${stack} as committed registers exactly the URNs it had before many services`, async () => {
            const { resources } = await evaluate(stack, stackFileConfig(stack));
            assert.deepEqual(urnsOf(resources), BEFORE[stack]);
        });

        it(`${stack} moved into switchyard:services keeps every resource: each old URN is registered or aliased`, async () => {
            const { resources } = await evaluate(stack, movedIntoServices(stackFileConfig(stack)));
            const now = new Set(urnsOf(resources));
            const aliased = new Map(resources.flatMap((r) => r.aliasUrns.map((u) => [u, engineUrn(r, resources)] as const)));
            const lost = BEFORE[stack].filter((urn) => !now.has(urn) && !aliased.has(urn));
            assert.deepEqual(lost, []);
            // What moved: the edge the service owned is now the shared one's, by alias.
            const moved = BEFORE[stack].filter((urn) => !now.has(urn)).map((urn) => aliased.get(urn)!);
            assert.deepEqual(moved.sort(), [
                `urn:pulumi:${stack}::switchyard::switchyard:edge:LoadBalancer$aws:ec2/securityGroup:SecurityGroup::edge-alb`,
                `urn:pulumi:${stack}::switchyard::switchyard:edge:LoadBalancer$aws:ecs/cluster:Cluster::edge-cluster`,
                `urn:pulumi:${stack}::switchyard::switchyard:edge:LoadBalancer$aws:lb/loadBalancer:LoadBalancer::edge-alb`,
            ]);
        });
    }
});
