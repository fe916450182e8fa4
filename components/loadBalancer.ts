import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { roleTags } from "../lib/tags";

/** What the edge is built from: the network side of the load balancer and who may test. */
export interface EdgeNetworkArgs {
    /** Base tags (stack, service or `edge`); listeners get `switchyard:role` too. */
    readonly tags: Record<string, string>;
    readonly vpcId: pulumi.Input<string>;
    /** At least two public subnets in different availability zones. */
    readonly publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Refuse to delete the load balancer (production). @default false */
    readonly deletionProtection?: boolean;
    /** HTTPS: a 443 production listener with this certificate, and port 80 redirecting to it. @default HTTP on 80 */
    readonly https?: { readonly certificateArn: pulumi.Input<string>; readonly sslPolicy: string };
    /** Who may reach the test listener; without it there is no test port (rolling). @default no test listener */
    readonly testAccess?: { readonly port: number; readonly cidrs: readonly string[] };
}

/** The load balancer and its security group, as every service on it sees them. */
export interface EdgeRef {
    readonly loadBalancerArn: pulumi.Input<string>;
    /** `app/<name>/<id>`: the CloudWatch dimension of the load balancer. */
    readonly loadBalancerArnSuffix: pulumi.Input<string>;
    readonly dnsName: pulumi.Input<string>;
    /** The load balancer's security group: tasks admit traffic from it only. */
    readonly securityGroupId: pulumi.Input<string>;
    /** HTTPS settings of the edge's listeners (the URL scheme). */
    readonly https: boolean;
    /** The test listener's port (0: none). */
    readonly testPort: number;
    /**
     * The listeners services add rules to. Absent: the default service creates them (its weighted
     * forward is their default action) and every other service adds rules to that service's.
     */
    readonly listeners?: EdgeListeners;
}

/**
 * Earlier URNs of the listeners, by listener: the listeners of a shared edge belong to the
 * default service, or to the edge when there is none, so changing `loadBalancer.default` moves
 * them; with these aliases the engine updates them in place (ModifyListener) instead of creating
 * new ones on ports the old ones still hold (CreateListener fails with DuplicateListener: only one
 * listener per port, https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateListener.html).
 */
export interface ListenerAliases {
    readonly production: readonly string[];
    readonly test: readonly string[];
    readonly redirect: readonly string[];
}

export interface EdgeListeners {
    readonly productionArn: pulumi.Input<string>;
    /** Needed by blue-green services (their candidate's rule). */
    readonly testArn?: pulumi.Input<string>;
}

/**
 * The security group and the internet-facing ALB, created under `parent` with names derived from
 * `name`. One code path for the shared edge (LoadBalancer) and for a single service's own edge
 * (TrafficSwitch), whose resources keep the names and URNs they always had.
 */
export function createEdgeResources(
    name: string,
    args: EdgeNetworkArgs,
    parent: pulumi.Resource,
    aliases: { securityGroup?: pulumi.Input<string>; loadBalancer?: pulumi.Input<string> } = {},
): { securityGroup: aws.ec2.SecurityGroup; loadBalancer: aws.lb.LoadBalancer } {
    const world = (port: number) => ({
        protocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrBlocks: ["0.0.0.0/0"],
        ipv6CidrBlocks: ["::/0"],
        description: "production traffic",
    });
    const ingress: aws.types.input.ec2.SecurityGroupIngress[] = args.https ? [world(80), world(443)] : [world(80)];
    if (args.testAccess && args.testAccess.cidrs.length > 0) {
        ingress.push({
            protocol: "tcp",
            fromPort: args.testAccess.port,
            toPort: args.testAccess.port,
            cidrBlocks: args.testAccess.cidrs.filter((c) => !c.includes(":")),
            ipv6CidrBlocks: args.testAccess.cidrs.filter((c) => c.includes(":")),
            description: "test listener: allow-listed testers only",
        });
    }
    const securityGroup = new aws.ec2.SecurityGroup(
        `${name}-alb`,
        {
            vpcId: args.vpcId,
            // Constant: a security group's description forces its replacement, so one naming the
            // port would replace the group (and every task's rules) when HTTPS is turned on.
            description: "switchyard load balancer: production ports from anywhere, test port from testAccess.cidrs",
            ingress,
            egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
            tags: args.tags,
        },
        { parent, aliases: aliases.securityGroup ? [aliases.securityGroup] : undefined },
    );
    const loadBalancer = new aws.lb.LoadBalancer(
        `${name}-alb`,
        {
            loadBalancerType: "application",
            internal: false,
            subnets: args.publicSubnetIds,
            securityGroups: [securityGroup.id],
            enableDeletionProtection: args.deletionProtection ?? false,
            dropInvalidHeaderFields: true,
            tags: args.tags,
        },
        { parent, aliases: aliases.loadBalancer ? [aliases.loadBalancer] : undefined },
    );
    return { securityGroup, loadBalancer };
}

/** A fixed 404 for requests no rule matches (no service is the default). */
const NOT_FOUND: aws.types.input.lb.ListenerDefaultAction = {
    type: "fixed-response",
    fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "no service matches this request" },
};

export interface LoadBalancerArgs extends EdgeNetworkArgs {
    /**
     * Create the production and test listeners here, answering 404 to what no rule matches. Off
     * when a service is the default: that service creates them with its weighted forward as
     * their default action. @default false
     */
    readonly listeners?: boolean;
    /**
     * Earlier URNs of the security group, the load balancer and the cluster (a single-service stack
     * moved into `switchyard:services`: they were its service's), so the engine keeps them.
     * @default none
     */
    readonly aliases?: { readonly securityGroup?: string; readonly loadBalancer?: string; readonly cluster?: string };
    /** Earlier URNs of the listeners this component creates (`listeners: true`). @default none */
    readonly listenerAliases?: ListenerAliases;
}

/**
 * The shared edge of many services: one ALB, its security group and the ECS cluster; with no
 * default service, also the production and test listeners (fixed 404 by default). Services add
 * their rules (components/trafficSwitch.ts) and attach their target groups.
 */
export class LoadBalancer extends pulumi.ComponentResource {
    public readonly securityGroup: aws.ec2.SecurityGroup;
    public readonly loadBalancer: aws.lb.LoadBalancer;
    public readonly cluster: aws.ecs.Cluster;
    public readonly productionListener?: aws.lb.Listener;
    public readonly testListener?: aws.lb.Listener;
    /** Port 80 → 443, with HTTPS (only when this component creates the listeners). */
    public readonly httpRedirectListener?: aws.lb.Listener;
    /** What services need of the edge. */
    public readonly ref: EdgeRef;

    constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("switchyard:edge:LoadBalancer", name, {}, opts);
        const edge = createEdgeResources(name, args, this, args.aliases ?? {});
        this.securityGroup = edge.securityGroup;
        this.loadBalancer = edge.loadBalancer;
        this.cluster = new aws.ecs.Cluster(
            `${name}-cluster`,
            { settings: [{ name: "containerInsights", value: "enabled" }], tags: args.tags },
            { parent: this, aliases: args.aliases?.cluster ? [args.aliases.cluster] : undefined },
        );
        if (args.listeners) {
            const https = args.https;
            this.productionListener = new aws.lb.Listener(
                `${name}-prod-listener`,
                {
                    loadBalancerArn: this.loadBalancer.arn,
                    port: https ? 443 : 80,
                    protocol: https ? "HTTPS" : "HTTP",
                    certificateArn: https?.certificateArn,
                    sslPolicy: https?.sslPolicy,
                    defaultActions: [NOT_FOUND],
                    tags: roleTags(args.tags, "production"),
                },
                { parent: this, aliases: [...(args.listenerAliases?.production ?? [])] },
            );
            if (https) {
                this.httpRedirectListener = new aws.lb.Listener(
                    `${name}-http-redirect`,
                    {
                        loadBalancerArn: this.loadBalancer.arn,
                        port: 80,
                        protocol: "HTTP",
                        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                        tags: roleTags(args.tags, "production"),
                    },
                    { parent: this, dependsOn: [this.productionListener], aliases: [...(args.listenerAliases?.redirect ?? [])] },
                );
            }
            if (args.testAccess) {
                this.testListener = new aws.lb.Listener(
                    `${name}-test-listener`,
                    {
                        loadBalancerArn: this.loadBalancer.arn,
                        port: args.testAccess.port,
                        protocol: https ? "HTTPS" : "HTTP",
                        certificateArn: https?.certificateArn,
                        sslPolicy: https?.sslPolicy,
                        defaultActions: [NOT_FOUND],
                        tags: roleTags(args.tags, "test"),
                    },
                    { parent: this, aliases: [...(args.listenerAliases?.test ?? [])] },
                );
            }
        }
        this.ref = {
            loadBalancerArn: this.loadBalancer.arn,
            loadBalancerArnSuffix: this.loadBalancer.arnSuffix,
            dnsName: this.loadBalancer.dnsName,
            securityGroupId: this.securityGroup.id,
            https: args.https !== undefined,
            testPort: args.testAccess?.port ?? 0,
            listeners: this.productionListener
                ? { productionArn: this.productionListener.arn, testArn: this.testListener?.arn }
                : undefined,
        };
        this.registerOutputs({
            loadBalancerArn: this.loadBalancer.arn,
            dnsName: this.loadBalancer.dnsName,
            clusterArn: this.cluster.arn,
            productionListenerArn: this.productionListener?.arn,
            testListenerArn: this.testListener?.arn,
        });
    }
}

/** An existing edge (`switchyard:loadBalancer.adopt`): nothing is created; rules attach to its listeners. */
export function adoptedEdgeRef(adopt: {
    readonly arn: string;
    readonly securityGroupId: string;
    readonly productionListenerArn: string;
    readonly testListenerArn?: string;
    readonly https: boolean;
    readonly testPort: number;
}): EdgeRef {
    const lb = aws.lb.getLoadBalancerOutput({ arn: adopt.arn });
    return {
        loadBalancerArn: adopt.arn,
        loadBalancerArnSuffix: lb.arnSuffix,
        dnsName: lb.dnsName,
        securityGroupId: adopt.securityGroupId,
        https: adopt.https,
        testPort: adopt.testPort,
        listeners: { productionArn: adopt.productionListenerArn, testArn: adopt.testListenerArn },
    };
}
