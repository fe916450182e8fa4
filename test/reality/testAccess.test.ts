/**
 * Issue 14, item 3: no private address reaches an internet-facing load balancer. Its nodes have
 * public addresses only (the premise, read from the elbv2 model below and
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html),
 * and a client behind a NAT gateway arrives by the gateway's address
 * (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html). So the committed stacks
 * name no such range, and `pulumi preview`/`up` (index.ts) warn about one.
 */
import { strict as assert } from "node:assert";
import { parseConfig, rawFromPulumiConfig } from "../../lib/config";
import { unreachableAddressWarnings } from "../../lib/parse/settings";
import { baseRaw, stackConfig } from "../helpers/configs";
import { evaluate, flatten } from "../helpers/program";
import { apiModel, memberDocs } from "./apiModels";
import { committedScenarios } from "./scenarios";

describe("reality: test access from private ranges (issue 14, item 3)", () => {
    it("the premise: the load balancer is internet-facing, whose nodes have public addresses only", async () => {
        const docs = memberDocs(apiModel("elbv2"), "CreateLoadBalancerInput", "Scheme");
        assert.ok(docs.includes("The nodes of an Internet-facing load balancer have public IP addresses."), docs);
        const lbs = (await evaluate("dev", stackConfig(baseRaw()))).resources.filter((r) => r.type === "aws:lb/loadBalancer:LoadBalancer");
        assert.deepEqual(
            lbs.map((r) => r.inputs.internal),
            [false],
        );
    });

    it("no committed stack lists a range that cannot reach the test listener", () => {
        for (const s of committedScenarios()) {
            const cfg = parseConfig(rawFromPulumiConfig(flatten(s.config)), s.stack);
            assert.deepEqual(unreachableAddressWarnings(cfg), [], s.title);
        }
    });

    it("pulumi preview and up warn about one (index.ts logs it through pulumi.log.warn)", async function () {
        this.timeout(30000);
        const raw = baseRaw();
        raw.testAccess = { cidrs: ["10.0.0.0/8"] };
        // Without an engine (under the mocks, as in `plan`), pulumi.log.warn writes `warning: [runtime] <message>`.
        const warned: string[] = [];
        const original = console.warn;
        console.warn = (...args: unknown[]) => void warned.push(args.join(" "));
        try {
            await evaluate("dev", stackConfig(raw));
        } finally {
            console.warn = original;
        }
        const expected = unreachableAddressWarnings(parseConfig(raw, "dev"));
        assert.equal(expected.length, 1);
        assert.deepEqual(warned, [`warning: [runtime] ${expected[0]}`]);
    });
});
