/**
 * `plan` on stacks of several services (issue 16): every service when no --service is given, one
 * with --service, each change classified per service, and a diff that follows aliases the engine's
 * way (pulumi/pulumi pkg/resource/deploy/step_generator.go, generateSteps: an old resource is
 * found by the new one's URN first, then by its aliases), so Pulumi.dev.yaml moved into
 * `switchyard:services` (web as the default) plans no replacement and no deletion.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { main } from "../../cli/main";
import { servicesRaw } from "../helpers/servicesConfigs";
import { ConfigMap, ROOT, committed } from "./helpers";

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l), env: process.env });
    return { code, out, err };
}

const made: string[] = [];
after(() => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A folder with Pulumi.dev.yaml = `now`, the base as base.yaml, and ./app (dev's build context). */
function folder(base: ConfigMap, now: ConfigMap): { dir: string; baseFile: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-plan-services-"));
    made.push(dir);
    fs.symlinkSync(path.join(ROOT, "app"), path.join(dir, "app"));
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stringify({ config: now }));
    const baseFile = path.join(dir, "base.yaml");
    fs.writeFileSync(baseFile, stringify({ config: base }));
    return { dir, baseFile };
}

/** The same stack in the services form, its service under its name as the default (test/stack/urnContinuity.test.ts). */
function movedIntoServices(config: ConfigMap): ConfigMap {
    const moved: ConfigMap = {};
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

function servicesMap(change: (raw: Record<string, any>) => void = () => {}): ConfigMap {
    const raw = servicesRaw();
    change(raw);
    return { "aws:region": "eu-west-1", ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [`switchyard:${k}`, v])) };
}

describe("plan on stacks of several services", function () {
    this.timeout(60000);

    it("Pulumi.dev.yaml moved into switchyard:services: no create, replace or delete; the edge takes the load balancer by alias", async () => {
        const dev = committed("dev");
        const { dir, baseFile } = folder(dev, movedIntoServices(dev));
        const { code, out } = await run(["plan", "--stack", "dev", "--dir", dir, "--base-file", baseFile, "--json"]);
        assert.equal(code, 0, out.join("\n"));
        const doc = JSON.parse(out.join("\n"));
        assert.deepEqual(Object.keys(doc.services), ["web"]);
        assert.deepEqual(doc.services.web.resources, []);
        assert.deepEqual(doc.services.web.violations, []);
        // What changes: the tag that says whose the shared edge is (web's before, the edge's now).
        assert.deepEqual(
            doc.shared.map((r: any) => `${r.change} ${r.type.split(":").pop()} ${r.name}: ${r.properties.join(", ")}`),
            [
                "update Cluster edge-cluster: tags.switchyard:service",
                "update LoadBalancer edge-alb: tags.switchyard:service",
                "update SecurityGroup edge-alb: tags.switchyard:service",
            ],
        );
    });

    it("a canary of api: api's change is a canary, web's plan is empty; --service api shows api alone; its undo names --service", async () => {
        const base = servicesMap();
        const now = servicesMap((raw) => (raw.services.api.traffic.canary = { percent: 10 }));
        const { dir, baseFile } = folder(base, now);
        const all = await run(["plan", "--stack", "dev", "--dir", dir, "--base-file", baseFile, "--json"]);
        assert.equal(all.code, 0, all.out.join("\n") + all.err.join("\n"));
        const doc = JSON.parse(all.out.join("\n"));
        assert.deepEqual(Object.keys(doc.services), ["web", "api"]);
        assert.equal(doc.services.api.kind, "canary step");
        assert.deepEqual(
            doc.services.api.resources.map((r: any) => `${r.change} ${r.name}: ${r.properties.join(", ")}`),
            [
                "update api-gate: weights.blue, weights.green",
                "update api-forward: actions[0].forward.targetGroups[0].weight, actions[0].forward.targetGroups[1].weight",
            ],
        );
        assert.deepEqual(doc.services.web.resources, []);
        assert.deepEqual(doc.shared, []);
        // rollback also removes api's route to its candidate (blue; green is live), so the route comes back after it.
        assert.equal(
            doc.services.api.undo,
            `npm run switchyard -- rollback --stack dev --service api --dir ${dir} && ` +
                `npm run switchyard -- route add --color blue --header x-beta=1 --priority 1 --stack dev --service api --dir ${dir}`,
        );

        const one = await run(["plan", "--stack", "dev", "--dir", dir, "--base-file", baseFile, "--service", "api"]);
        assert.equal(one.code, 0);
        assert.equal(one.out[0], `Plan for stack dev (base: ${baseFile}): api`);
        assert.ok(one.out.includes("== service api =="), one.out.join("\n"));
        assert.ok(!one.out.includes("== service web =="), one.out.join("\n"));
    });

    it("--service naming no service of the stack: exit 2, nothing planned", async () => {
        const { dir, baseFile } = folder(servicesMap(), servicesMap());
        const { code, out, err } = await run(["plan", "--stack", "dev", "--dir", dir, "--base-file", baseFile, "--service", "worker"]);
        assert.equal(code, 2);
        assert.deepEqual(out, []);
        assert.deepEqual(err, ["switchyard: --service worker: stack dev has no service worker; its services are web, api"]);
    });
});
