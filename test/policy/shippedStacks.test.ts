/**
 * The committed stacks comply with the switchyard policy pack: each policy runs against the
 * resources that Pulumi.dev.yaml and Pulumi.prod.yaml register under the mocks.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { defaultEnvironment } from "../../lib/config";
import { TAG_ENVIRONMENT as LIB_TAG_ENVIRONMENT, TAG_ROLE as LIB_TAG_ROLE, TAG_STACK as LIB_TAG_STACK } from "../../lib/tags";
import { PRODUCTION_STACKS, TAG_ENVIRONMENT, TAG_ROLE, TAG_STACK, policies, productionAlbHardening } from "../../policy/policies";
import { Recorded } from "../helpers/mocks";
import { ROOT, evaluate, stackFileConfig } from "../helpers/program";
import { messages, runPolicies } from "./helpers";

describe("policy pack: shipped stacks", () => {
    const stacks: Record<string, Recorded[]> = {};

    before(async () => {
        for (const stack of ["dev", "prod"]) {
            stacks[stack] = (await evaluate(stack, stackFileConfig(stack))).resources;
        }
    });

    it("dev complies with every policy, advisory ones included", async () => {
        const run = await runPolicies(policies, stacks.dev);
        assert.deepEqual(run.violations, []);
    });

    it("prod complies with every policy, advisory ones included", async () => {
        const run = await runPolicies(policies, stacks.prod);
        assert.deepEqual(run.violations, []);
    });

    it("every policy applies to some resource of prod (the checks above are not vacuous)", async () => {
        const run = await runPolicies(policies, stacks.prod);
        assert.deepEqual([...run.applied].sort(), policies.map((p) => p.name).sort());
    });

    it("dev is not production: rule 4 fires there under policy/production.config.json", async () => {
        const config = JSON.parse(readFileSync(path.join(ROOT, "policy/production.config.json"), "utf8"));
        assert.deepEqual(config, { [productionAlbHardening.name]: { environment: "production" } });
        const run = await runPolicies([productionAlbHardening], stacks.dev, config);
        assert.deepEqual(messages(run), [
            "load balancer web-alb is production (policy config environment: production) but enableDeletionProtection is not true; " +
                "set enableDeletionProtection: true (switchyard does when switchyard:environment is production) so it cannot be deleted by accident",
            "production listener web-prod-listener is production (policy config environment: production) but listens on HTTP:80 " +
                "with default action forward; production traffic must use HTTPS on 443 and port 80 may only redirect to HTTPS: " +
                "set switchyard:https.certificateArn to an ACM certificate",
        ]);
    });

    it("declares the Pulumi SDKs at the root package.json's versions (it resolves the root node_modules)", () => {
        const read = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), "utf8"));
        const root = read("package.json");
        const pack = read("policy/package.json");
        for (const [name, version] of Object.entries<string>(pack.dependencies)) assert.equal(version, root.dependencies[name], name);
        for (const [name, version] of Object.entries<string>(pack.devDependencies)) assert.equal(version, root.devDependencies[name], name);
        assert.ok(pack.version, "PolicyPack reads its version from package.json");
    });

    it("uses switchyard's tag names and production stack names", () => {
        assert.equal(TAG_STACK, LIB_TAG_STACK);
        assert.equal(TAG_ROLE, LIB_TAG_ROLE);
        assert.equal(TAG_ENVIRONMENT, LIB_TAG_ENVIRONMENT);
        for (const stack of PRODUCTION_STACKS) assert.equal(defaultEnvironment(stack), "production", stack);
    });
});
