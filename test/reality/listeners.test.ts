/**
 * Listeners, TLS and the load balancer's security group, over every tested stack.
 */
import { strict as assert } from "node:assert";
import { parseConfig } from "../../lib/config";
import { ConfigError } from "../../lib/problems";
import { baseRaw, stackConfig } from "../helpers/configs";
import { evaluate, ofType, one } from "../helpers/program";
import { evaluatedScenarios } from "./scenarios";

const LISTENER = "aws:lb/listener:Listener";

describe("reality: listeners, TLS and the ALB security group", () => {
    before(async function () {
        this.timeout(60000);
        await evaluatedScenarios();
    });

    // CreateListener fails with DuplicateListener when the port is taken on that load balancer.
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html
    it("gives every listener of a stack its own port", async () => {
        for (const s of await evaluatedScenarios()) {
            const ports = ofType(s.evaluation.resources, LISTENER).map((l) => l.inputs.port);
            assert.equal(new Set(ports).size, ports.length, `${s.title}: ${ports}`);
        }
    });

    it("creates the port-80 redirect only after the production listener has left port 80 (turning HTTPS on)", async () => {
        const https = (await evaluatedScenarios()).filter((s) => s.config["switchyard:https"]);
        assert.ok(https.length >= 2, "HTTPS stacks are tested");
        for (const s of https) {
            const prod = one(s.evaluation.resources, LISTENER, "-prod-listener");
            const redirect = one(s.evaluation.resources, LISTENER, "-http-redirect");
            assert.ok(redirect.dependencies.includes(prod.urn), s.title);
        }
    });

    // A security group's description has no update API: changing it replaces the group
    // (AWS::EC2::SecurityGroup GroupDescription, "Update requires: Replacement";
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-securitygroup.html).
    it("keeps the ALB security group's description when HTTPS is turned on, so the group is not replaced", async () => {
        const http = baseRaw();
        const https = { ...baseRaw(), https: { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" } };
        const description = async (raw: Record<string, unknown>) =>
            one((await evaluate("dev", stackConfig(raw))).resources, "aws:ec2/securityGroup:SecurityGroup", "web-alb").inputs.description;
        assert.equal(await description(https), await description(http));
    });

    // An ACM certificate names the user's domain, never the load balancer's *.elb.amazonaws.com
    // name, so a TLS client calling that name fails verification.
    // https://docs.aws.amazon.com/acm/latest/userguide/acm-overview.html
    it("never probes the load balancer's own name over HTTPS", async () => {
        const probes = (await evaluatedScenarios()).flatMap((s) =>
            ofType(s.evaluation.resources, "pulumi-nodejs:dynamic:Resource").flatMap((g) => (g.inputs.probeUrl ? [g.inputs.probeUrl] : [])),
        );
        assert.ok(probes.length > 0, "probing stacks are tested");
        for (const url of probes) assert.match(url, /^http:\/\/[^/]+\.elb\.amazonaws\.com:\d+\//);
    });

    it("refuses gateProbePath together with https before anything is registered (defect 4)", () => {
        const raw: Record<string, any> = {
            ...baseRaw(),
            https: { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" },
        };
        raw.service.gateProbePath = "/version";
        assert.throws(
            () => parseConfig(raw, "dev"),
            (e: unknown) =>
                e instanceof ConfigError &&
                e.problems.some((p) => p.startsWith("switchyard:service.gateProbePath cannot be used with switchyard:https")),
        );
    });
});
