/** Whole-program tests: the committed stack files, evaluated as `pulumi up` would. */
import { strict as assert } from "node:assert";
import { evaluate, ofType, one, stackFileConfig } from "../helpers/program";

const LISTENER = "aws:lb/listener:Listener";
const TG = "aws:lb/targetGroup:TargetGroup";
const SERVICE = "aws:ecs/service:Service";

describe("committed stack files", () => {
    describe("Pulumi.dev.yaml", () => {
        it("builds green from ./app, serves it live, and leaves blue as an empty candidate", async () => {
            const { resources, outputs } = await evaluate("dev", stackFileConfig("dev"));
            assert.equal(outputs.liveColor, "green");
            assert.equal(outputs.candidateColor, "blue");
            assert.deepEqual(outputs.weights, { green: 100, blue: 0 });
            assert.match(String((outputs.images as any).green), /\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/.+@sha256:[0-9a-f]{64}$/);
            assert.equal((outputs.images as any).blue, null);
            assert.equal(outputs.productionUrl, "http://web-alb-123.eu-west-1.elb.amazonaws.com");
            assert.equal(outputs.testUrl, "http://web-alb-123.eu-west-1.elb.amazonaws.com:9000");

            const image = one(resources, "docker:index/image:Image", "web-image-image");
            assert.deepEqual(image.inputs.build, { context: "./app", platform: "linux/amd64" });
            assert.match(image.inputs.imageName, /:build-[0-9a-f]{16}-[0-9a-f]{8}$/);
            assert.equal(ofType(resources, SERVICE).length, 1, "an empty slot has no service");
            assert.equal(ofType(resources, TG).length, 2, "both colours keep a target group");
            const alb = one(resources, "aws:lb/loadBalancer:LoadBalancer", "web-alb");
            assert.equal(alb.inputs.enableDeletionProtection, false);
            assert.deepEqual(alb.inputs.subnets, ["subnet-0a", "subnet-0b", "subnet-0c"], "the default VPC's subnets");
            const green = one(resources, SERVICE, "web-green-svc");
            assert.equal(green.inputs.desiredCount, 1);
            assert.equal(green.inputs.networkConfiguration.assignPublicIp, true, "default subnets have no NAT");
        });
    });

    describe("Pulumi.prod.yaml", () => {
        it("serves HTTPS with a redirect, protects the ALB, keeps the ECR repository, and autoscales", async () => {
            const { resources, outputs } = await evaluate("prod", stackFileConfig("prod"));
            assert.equal(outputs.productionUrl, "https://web-alb-123.eu-west-1.elb.amazonaws.com");
            assert.equal(outputs.testUrl, "https://web-alb-123.eu-west-1.elb.amazonaws.com:9443");
            assert.equal(one(resources, "aws:lb/loadBalancer:LoadBalancer", "web-alb").inputs.enableDeletionProtection, true);
            const prodListener = one(resources, LISTENER, "web-prod-listener");
            assert.equal(prodListener.inputs.port, 443);
            assert.equal(prodListener.inputs.protocol, "HTTPS");
            assert.equal(prodListener.inputs.sslPolicy, "ELBSecurityPolicy-TLS13-1-2-2021-06");
            const redirect = one(resources, LISTENER, "web-http-redirect");
            assert.equal(redirect.inputs.port, 80);
            assert.deepEqual(redirect.inputs.defaultActions, [
                { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
            ]);
            assert.equal(one(resources, "aws:ecr/repository:Repository", "web-image-repo").inputs.forceDelete, false);
            const blue = one(resources, SERVICE, "web-blue-svc");
            assert.equal(blue.inputs.desiredCount, 4);
            assert.deepEqual(blue.inputs.networkConfiguration.subnets, ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]);
            assert.equal(blue.inputs.networkConfiguration.assignPublicIp, false);
            const scaling = one(resources, "aws:appautoscaling/target:Target", "web-blue-scaling");
            assert.equal(scaling.inputs.minCapacity, 4);
            assert.equal(scaling.inputs.maxCapacity, 12);
            assert.equal(ofType(resources, "docker:index/image:Image").length, 0, "prod never builds");
        });
    });
});
