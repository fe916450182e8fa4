/**
 * Two services on one load balancer, from switchyard's components alone: no `switchyard:*` stack
 * configuration. `web` answers everything under www.example.com, `api` the /api paths; each is
 * blue/green with its own target groups, fleets, health gate and alarms. Run it as a Pulumi
 * program of your own (its Pulumi.yaml names this file as main), or read it as the library's
 * usage: test/stack/example.test.ts evaluates it.
 */
import * as pulumi from "@pulumi/pulumi";
import { BlueGreenService } from "../../components/blueGreenService";
import { LoadBalancer } from "../../components/loadBalancer";
import { parseConfig } from "../../lib/config";

const stack = pulumi.getStack();
const vpcId = "vpc-0123456789abcdef0";
const publicSubnetIds = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"];
const privateSubnetIds = ["subnet-0cccccccccccccccc", "subnet-0dddddddddddddddd"];
const testAccess = { cidrs: ["203.0.113.0/24"], port: 9000 };

// The shared edge: no service is the default, so the listeners answer 404 to what no rule matches.
const edge = new LoadBalancer("shop", {
    tags: { "switchyard:stack": stack, "switchyard:service": "edge", "switchyard:environment": "development" },
    vpcId,
    publicSubnetIds,
    testAccess,
    listeners: true,
});

/** A service's settings and release state, validated as the stack file's would be. */
function service(name: string, image: string) {
    return parseConfig(
        {
            service: { name, port: 8080, healthCheckPath: "/healthz", desiredCount: 2 },
            network: { vpcId, publicSubnetIds, privateSubnetIds },
            slots: { blue: { image } },
            traffic: { live: "blue" },
            testAccess,
        },
        stack,
    );
}

const api = new BlueGreenService("api", {
    config: service("api", `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:${"a".repeat(64)}`),
    edge: edge.ref,
    cluster: edge.cluster,
    rules: {
        routes: [],
        // The narrower match first: /api before the catch-all of web.
        forward: { logicalName: "api-forward", priority: 199, conditions: [{ pathPattern: { values: ["/api", "/api/*"] } }] },
        test: { logicalName: "api-test", priority: 100, conditions: [{ pathPattern: { values: ["/api", "/api/*"] } }] },
    },
});

const web = new BlueGreenService("web", {
    config: service("web", `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${"b".repeat(64)}`),
    edge: edge.ref,
    cluster: edge.cluster,
    rules: {
        routes: [],
        forward: { logicalName: "web-forward", priority: 1099, conditions: [{ hostHeader: { values: ["www.example.com"] } }] },
        test: { logicalName: "web-test", priority: 1000, conditions: [{ hostHeader: { values: ["www.example.com"] } }] },
    },
});

export const url = pulumi.interpolate`http://${edge.loadBalancer.dnsName}`;
export const apiLive = api.liveColor;
export const webLive = web.liveColor;
