/**
 * The Pulumi engine's project-config rule (lib/parse/projectConfig.ts), which decides whether
 * `pulumi preview` gets past configuration loading at all. Source: pulumi/pulumi
 * sdk/go/common/workspace/config.go (`mergeConfig`, `ValidateStackConfigAndApplyProjectConfig`),
 * project.go (`ValidateConfigValue`) and their test
 * `TestStackConfigErrorsWhenMissingStackValueForConfigTypeWithNoDefault` (project_test.go).
 */
import { strict as assert } from "node:assert";
import { parseConfig, rawFromPulumiConfig } from "../../lib/config";
import { applyProjectConfig } from "../../lib/parse/projectConfig";
import { flatten, stackFileConfig } from "../helpers/program";
import { committedStackNames, PROJECT } from "./scenarios";

describe("reality: the Pulumi engine's project configuration", () => {
    it("finds the committed stacks (dev and prod at least)", () => {
        assert.ok(committedStackNames().includes("dev") && committedStackNames().includes("prod"), committedStackNames().join(", "));
    });

    for (const stack of committedStackNames()) {
        it(`Pulumi.${stack}.yaml gets past configuration loading, and switchyard accepts what the engine passes on`, () => {
            const file = stackFileConfig(stack);
            const { problems, config } = applyProjectConfig(PROJECT.name, PROJECT.config ?? {}, stack, file);
            assert.deepEqual(problems, []);
            assert.equal(config["switchyard:strategy"], file["switchyard:strategy"] ?? "blue-green");
            parseConfig(rawFromPulumiConfig(flatten(config)), stack);
        });
    }

    it("declares no key without a default in Pulumi.yaml (a future one would break every stack that omits it)", () => {
        const required = Object.entries(PROJECT.config ?? {}).filter(
            ([, d]) => typeof d === "object" && d !== null && !("default" in d) && !("value" in d),
        );
        assert.deepEqual(required, []);
    });

    it("refuses a declared key without a default that a stack leaves out, in the engine's words (defect 1)", () => {
        // Pulumi.yaml as it was: `environment` declared with a type and no default; dev omits it.
        const declared = { strategy: { type: "string", default: "blue-green" }, environment: { type: "string", description: "..." } };
        const { problems } = applyProjectConfig("switchyard", declared, "dev", { "aws:region": "eu-west-1" });
        assert.deepEqual(problems, ["Stack 'dev' is missing configuration value 'environment'"]);
    });

    it("lists every missing key in one message, sorted, as the engine does", () => {
        const declared = { values: { type: "array", items: { type: "string" } }, another: { type: "string" } };
        assert.deepEqual(applyProjectConfig("test", declared, "dev", {}).problems, [
            "Stack 'dev' is missing configuration values 'another' and 'values'",
        ]);
    });

    it("checks declared types against the stack's values (scalars arrive as strings)", () => {
        const declared = {
            importantNumber: { type: "integer" },
            enabled: { type: "boolean" },
            names: { type: "array", items: { type: "string" } },
        };
        const ok = { "test:importantNumber": 20, "test:enabled": "true", "test:names": ["a"] };
        assert.deepEqual(applyProjectConfig("test", declared, "dev", ok).problems, []);
        const bad = { "test:importantNumber": "twenty", "test:enabled": "yes", "test:names": [1] };
        assert.deepEqual(applyProjectConfig("test", declared, "dev", bad).problems, [
            "Stack 'dev' with configuration key 'enabled' must be of type 'boolean'",
            "Stack 'dev' with configuration key 'importantNumber' must be of type 'integer'",
            "Stack 'dev' with configuration key 'names' must be of type 'array<string>'",
        ]);
    });

    it("fills in declared defaults and short-form values, and refuses a default on another namespace's key", () => {
        const declared = { strategy: { type: "string", default: "rolling" }, "aws:region": "eu-west-1" };
        assert.deepEqual(applyProjectConfig("switchyard", declared, "dev", {}).config, {
            "switchyard:strategy": "rolling",
            "aws:region": "eu-west-1",
        });
        assert.deepEqual(applyProjectConfig("switchyard", { "aws:region": { default: "eu-west-1" } }, "dev", {}).problems, [
            "Configuration key 'aws:region' is not namespaced by the project and should not define a default value or type",
        ]);
    });
});
