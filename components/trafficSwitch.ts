import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Color, Route } from "../lib/config";
import { routeConditions } from "../lib/parse/albRules";
import { roleTags } from "../lib/tags";
import { Weights } from "../lib/traffic";

export interface TrafficSwitchArgs {
    /** Base tags (stack, service); listeners get `switchyard:role` too. */
    readonly tags: Record<string, string>;
    readonly vpcId: pulumi.Input<string>;
    /** At least two public subnets in different availability zones. */
    readonly publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Refuse to delete the load balancer (production). */
    readonly deletionProtection: boolean;
    /** HTTPS: a 443 production listener with this certificate, and port 80 redirecting to it. */
    readonly https?: { readonly certificateArn: pulumi.Input<string>; readonly sslPolicy: string };
    /** Who may reach the test listener; without it there is no test listener (rolling). */
    readonly testAccess?: { readonly port: number; readonly cidrs: readonly string[] };
}

/** The target group of each colour that has a fleet. */
export type TargetGroupArns = Partial<Record<Color, pulumi.Input<string>>>;

/** The routing of one update: plain values, decided by the traffic plan. */
export interface Routing {
    readonly targetGroupArns: TargetGroupArns;
    /** Production weights of the default action; they sum to 100. */
    readonly weights: Weights;
    /** Seconds a client stays on the colour it got, when set. */
    readonly stickinessSeconds?: number;
    /** Partial-deployment rules on the production listener, in priority order. */
    readonly routes: readonly Route[];
    /**
     * What production routing waits for: the fleets' services (steady) and the health gate, so
     * traffic never moves to a colour before it is healthy (invariant 6).
     */
    readonly waitFor?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The load balancer and its listeners, built in three steps because of an ordering AWS forces:
 * an ECS service may only use a target group that a listener already forwards to, while
 * production traffic must wait for those services to be healthy. So: the constructor creates
 * the ALB and its security group (the fleets need it); `attachTargetGroups` creates the test
 * listener, which forwards to every target group (weight 0 but for the candidate) and so
 * attaches them all; `route` creates the production listener and rules after the services.
 */
export class TrafficSwitch extends pulumi.ComponentResource {
    public readonly loadBalancer: aws.lb.LoadBalancer;
    public readonly securityGroup: aws.ec2.SecurityGroup;
    /** Attaches every target group to the load balancer; serves the candidate to testers. */
    public readonly testListener?: aws.lb.Listener;
    /** The listener that carries the weights and the routes. */
    public productionListener?: aws.lb.Listener;
    /** Port 80 → 443, with HTTPS. */
    public httpRedirectListener?: aws.lb.Listener;
    public readonly routeRules: aws.lb.ListenerRule[] = [];
    private readonly name: string;
    private readonly args: TrafficSwitchArgs;

    constructor(name: string, args: TrafficSwitchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("switchyard:traffic:TrafficSwitch", name, {}, opts);
        this.name = name;
        this.args = args;
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
        this.securityGroup = new aws.ec2.SecurityGroup(
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
            { parent: this },
        );

        this.loadBalancer = new aws.lb.LoadBalancer(
            `${name}-alb`,
            {
                loadBalancerType: "application",
                internal: false,
                subnets: args.publicSubnetIds,
                securityGroups: [this.securityGroup.id],
                enableDeletionProtection: args.deletionProtection,
                dropInvalidHeaderFields: true,
                tags: args.tags,
            },
            { parent: this },
        );
        this.registerOutputs({ loadBalancerArn: this.loadBalancer.arn, dnsName: this.loadBalancer.dnsName });
    }

    /**
     * Creates the test listener. Every target group is in its forward action (weight 0 for all
     * but the candidate), which attaches them all to the load balancer before any service.
     */
    attachTargetGroups(targetGroupArns: TargetGroupArns, testTarget: Color): aws.lb.Listener {
        const { testAccess, https } = this.args;
        if (!testAccess) throw new Error("attachTargetGroups needs testAccess (blue-green only)");
        const weights = Object.fromEntries(Object.keys(targetGroupArns).map((c) => [c, c === testTarget ? 100 : 0])) as Weights;
        (this as { testListener?: aws.lb.Listener }).testListener = new aws.lb.Listener(
            `${this.name}-test-listener`,
            {
                loadBalancerArn: this.loadBalancer.arn,
                port: testAccess.port,
                protocol: https ? "HTTPS" : "HTTP",
                certificateArn: https?.certificateArn,
                sslPolicy: https?.sslPolicy,
                defaultActions: [weightedForward(targetGroupArns, weights)],
                tags: roleTags(this.args.tags, "test"),
            },
            { parent: this },
        );
        return this.testListener!;
    }

    /** Creates the production listener (and redirect) and one rule per route. */
    route(routing: Routing): void {
        const { https } = this.args;
        const opts = { parent: this, dependsOn: routing.waitFor };
        this.productionListener = new aws.lb.Listener(
            `${this.name}-prod-listener`,
            {
                loadBalancerArn: this.loadBalancer.arn,
                port: https ? 443 : 80,
                protocol: https ? "HTTPS" : "HTTP",
                certificateArn: https?.certificateArn,
                sslPolicy: https?.sslPolicy,
                defaultActions: [weightedForward(routing.targetGroupArns, routing.weights, routing.stickinessSeconds)],
                tags: roleTags(this.args.tags, "production"),
            },
            opts,
        );
        if (https) {
            this.httpRedirectListener = new aws.lb.Listener(
                `${this.name}-http-redirect`,
                {
                    loadBalancerArn: this.loadBalancer.arn,
                    port: 80,
                    protocol: "HTTP",
                    defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                    tags: roleTags(this.args.tags, "production"),
                },
                // Turning HTTPS on moves the production listener from 80 to 443; port 80 is free
                // only once that update is done, or CreateListener fails with DuplicateListener.
                { parent: this, dependsOn: [this.productionListener] },
            );
        }
        routing.routes.forEach((route, i) => {
            const targetGroupArn = routing.targetGroupArns[route.color];
            if (targetGroupArn === undefined) {
                throw new Error(`route ${i} targets ${route.color}, which has no fleet`);
            }
            this.routeRules.push(
                new aws.lb.ListenerRule(
                    routeRuleName(this.name, route),
                    {
                        listenerArn: this.productionListener!.arn,
                        priority: route.priority,
                        conditions: routeConditions(route).map((c) => c.condition),
                        actions: [{ type: "forward", targetGroupArn }],
                        tags: { ...roleTags(this.args.tags, "production"), "switchyard:color": route.color },
                    },
                    // Stacks deployed before rules were named by priority hold `route-<index>`.
                    { ...opts, aliases: [{ name: `${this.name}-route-${i}` }] },
                ),
            );
        });
    }
}

/**
 * A route's rule is named by its priority, never by its position in `traffic.routes`. The engine
 * runs creates and updates before deletes (https://www.pulumi.com/docs/iac/concepts/how-pulumi-works/),
 * and two rules of one listener can never hold one priority, not even for a moment
 * (SetRulePriorities and CreateRule fail with PriorityInUse,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetRulePriorities.html).
 * Named by index, removing the first of two routes updated `route-0` to the second's priority
 * while `route-1` still held it. Named by priority, a rule that stays never changes its priority:
 * the rules of a step are updated in place (conditions, target) or created and deleted whole.
 */
export function routeRuleName(switchName: string, route: Pick<Route, "priority">): string {
    return `${switchName}-route-p${route.priority}`;
}

/** A forward over every target group with explicit weights (0 keeps a group attached). */
function weightedForward(
    targetGroupArns: TargetGroupArns,
    weights: Weights,
    stickinessSeconds?: number,
): aws.types.input.lb.ListenerDefaultAction {
    const colors = Object.keys(targetGroupArns) as Color[];
    return {
        type: "forward",
        forward: {
            targetGroups: colors.map((c) => ({ arn: targetGroupArns[c]!, weight: weights[c] })),
            stickiness: stickinessSeconds ? { enabled: true, duration: stickinessSeconds } : { enabled: false, duration: 1 },
        },
    };
}
