import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Color } from "../lib/config";
import { RuleCondition } from "../lib/parse/albRules";
import { roleTags } from "../lib/tags";
import { Weights } from "../lib/traffic";
import { EdgeNetworkArgs, EdgeRef, ListenerAliases, createEdgeResources } from "./loadBalancer";
import { Transform, createWith } from "./transform";

export interface TrafficSwitchArgs extends EdgeNetworkArgs {
    /**
     * The shared edge this service's routing goes on (many services on one load balancer). Absent:
     * the service has its own edge, created here (the single-service form). @default its own edge
     */
    readonly edge?: EdgeRef;
    /** A typed escape hatch for every listener rule of the service (components/transform.ts). @default none */
    readonly transform?: Transform<aws.lb.ListenerRuleArgs>;
    /** Earlier URNs of the listeners this service creates (the default service of a shared edge). @default none */
    readonly listenerAliases?: ListenerAliases;
}

/** A listener rule as the rule layout plans it (lib/ruleLayout.ts): name, priority and conditions decided there. */
export interface RuleSpec {
    readonly logicalName: string;
    readonly priority: number;
    readonly conditions: readonly RuleCondition[];
    /** Earlier logical names of this rule (the engine keeps its URN). @default none */
    readonly aliasNames?: readonly string[];
}

/** The target group of each colour that has a fleet. */
export type TargetGroupArns = Partial<Record<Color, pulumi.Input<string>>>;

/** The routing of one update: plain values, decided by the traffic plan. */
export interface Routing {
    readonly targetGroupArns: TargetGroupArns;
    /** Production weights of the default action (or of the service's forward rule); they sum to 100. */
    readonly weights: Weights;
    /** Seconds a client stays on the colour it got, when set. */
    readonly stickinessSeconds?: number;
    /** Partial-deployment rules on the production listener, each with the colour it sends to. */
    readonly routes: readonly (RuleSpec & { readonly color: Color })[];
    /**
     * On a shared edge whose listeners belong to another service (or the edge): this service's
     * weighted forward, a rule after its routes, matching its requests. Absent: the weighted
     * forward is the production listener's default action.
     */
    readonly forward?: RuleSpec;
    /**
     * What production routing waits for: the fleets' services (steady) and the health gate, so
     * traffic never moves to a colour before it is healthy (invariant 6).
     */
    readonly waitFor?: pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
}

/**
 * One service's routing on a load balancer, built in steps because of an ordering AWS forces:
 * an ECS service may only use a target group that a listener already forwards to, while
 * production traffic must wait for those services to be healthy. So: the constructor creates the
 * service's own ALB and security group when it has no shared edge (the fleets need them);
 * `attachTargetGroups` creates the test listener (or, on a shared edge whose listeners another
 * owns, this service's test rule), which forwards to every target group (weight 0 but for the
 * candidate) and so attaches them all; `route` creates the production listener (or this service's
 * forward rule) and the route rules after the services.
 */
export class TrafficSwitch extends pulumi.ComponentResource {
    /** The service's own load balancer (undefined on a shared edge). */
    public readonly loadBalancer?: aws.lb.LoadBalancer;
    /** The service's own load balancer's security group (undefined on a shared edge). */
    public readonly securityGroup?: aws.ec2.SecurityGroup;
    /** The load balancer this service's routing is on, own or shared. */
    public readonly edge: EdgeRef;
    /** Attaches every target group to the load balancer; serves the candidate to testers (when this service owns the listeners). */
    public readonly testListener?: aws.lb.Listener;
    /** On a shared edge whose listeners another owns: the test listener's rule to this service's candidate. */
    public testRule?: aws.lb.ListenerRule;
    /** The listener that carries the weights and the routes (when this service owns the listeners). */
    public productionListener?: aws.lb.Listener;
    /** On a shared edge whose listeners another owns: this service's weighted forward. */
    public forwardRule?: aws.lb.ListenerRule;
    /** Port 80 → 443, with HTTPS. */
    public httpRedirectListener?: aws.lb.Listener;
    public readonly routeRules: aws.lb.ListenerRule[] = [];
    private readonly name: string;
    private readonly args: TrafficSwitchArgs;

    constructor(name: string, args: TrafficSwitchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("switchyard:traffic:TrafficSwitch", name, {}, opts);
        this.name = name;
        this.args = args;
        if (args.edge) {
            this.edge = args.edge;
        } else {
            const own = createEdgeResources(name, args, this);
            this.securityGroup = own.securityGroup;
            this.loadBalancer = own.loadBalancer;
            this.edge = {
                loadBalancerArn: own.loadBalancer.arn,
                loadBalancerArnSuffix: own.loadBalancer.arnSuffix,
                dnsName: own.loadBalancer.dnsName,
                securityGroupId: own.securityGroup.id,
                https: args.https !== undefined,
                testPort: args.testAccess?.port ?? 0,
            };
        }
        this.registerOutputs({ loadBalancerArn: this.edge.loadBalancerArn, dnsName: this.edge.dnsName });
    }

    /**
     * Creates the test listener, or this service's test rule on the shared one. Every target group
     * is in its forward action (weight 0 for all but the candidate), which attaches them all to
     * the load balancer before any service.
     */
    attachTargetGroups(targetGroupArns: TargetGroupArns, testTarget: Color, testRule?: RuleSpec): pulumi.Resource {
        const { testAccess, https } = this.args;
        if (!testAccess) throw new Error("attachTargetGroups needs testAccess (blue-green only)");
        const weights = Object.fromEntries(Object.keys(targetGroupArns).map((c) => [c, c === testTarget ? 100 : 0])) as Weights;
        const shared = this.edge.listeners;
        if (shared) {
            if (!shared.testArn || !testRule)
                throw new Error(`${this.name}: a blue-green service on a shared edge needs its test listener and test rule`);
            this.testRule = createWith(
                "listenerRule",
                this.args.transform,
                aws.lb.ListenerRule,
                testRule.logicalName,
                {
                    listenerArn: shared.testArn,
                    priority: testRule.priority,
                    conditions: [...testRule.conditions],
                    actions: [weightedForward(targetGroupArns, weights)],
                    tags: roleTags(this.args.tags, "test"),
                },
                { parent: this },
            );
            return this.testRule;
        }
        (this as { testListener?: aws.lb.Listener }).testListener = new aws.lb.Listener(
            `${this.name}-test-listener`,
            {
                loadBalancerArn: this.edge.loadBalancerArn,
                port: testAccess.port,
                protocol: https ? "HTTPS" : "HTTP",
                certificateArn: https?.certificateArn,
                sslPolicy: https?.sslPolicy,
                defaultActions: [weightedForward(targetGroupArns, weights)],
                tags: roleTags(this.args.tags, "test"),
            },
            { parent: this, aliases: [...(this.args.listenerAliases?.test ?? [])] },
        );
        return this.testListener!;
    }

    /**
     * Creates the production listener (and redirect), or on a shared edge whose listeners another
     * owns this service's forward rule; and one rule per route.
     */
    route(routing: Routing): void {
        const { https } = this.args;
        const opts = { parent: this, dependsOn: routing.waitFor };
        const shared = this.edge.listeners;
        let listenerArn: pulumi.Input<string>;
        if (shared) {
            if (!routing.forward)
                throw new Error(`${this.name}: a service on a shared edge whose listeners another owns needs its forward rule`);
            listenerArn = shared.productionArn;
            this.forwardRule = createWith(
                "listenerRule",
                this.args.transform,
                aws.lb.ListenerRule,
                routing.forward.logicalName,
                {
                    listenerArn,
                    priority: routing.forward.priority,
                    conditions: [...routing.forward.conditions],
                    actions: [weightedForward(routing.targetGroupArns, routing.weights, routing.stickinessSeconds)],
                    tags: roleTags(this.args.tags, "production"),
                },
                opts,
            );
        } else {
            this.productionListener = new aws.lb.Listener(
                `${this.name}-prod-listener`,
                {
                    loadBalancerArn: this.edge.loadBalancerArn,
                    port: https ? 443 : 80,
                    protocol: https ? "HTTPS" : "HTTP",
                    certificateArn: https?.certificateArn,
                    sslPolicy: https?.sslPolicy,
                    defaultActions: [weightedForward(routing.targetGroupArns, routing.weights, routing.stickinessSeconds)],
                    tags: roleTags(this.args.tags, "production"),
                },
                { ...opts, aliases: [...(this.args.listenerAliases?.production ?? [])] },
            );
            listenerArn = this.productionListener.arn;
            if (https) {
                this.httpRedirectListener = new aws.lb.Listener(
                    `${this.name}-http-redirect`,
                    {
                        loadBalancerArn: this.edge.loadBalancerArn,
                        port: 80,
                        protocol: "HTTP",
                        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                        tags: roleTags(this.args.tags, "production"),
                    },
                    // Turning HTTPS on moves the production listener from 80 to 443; port 80 is free
                    // only once that update is done, or CreateListener fails with DuplicateListener.
                    { parent: this, dependsOn: [this.productionListener], aliases: [...(this.args.listenerAliases?.redirect ?? [])] },
                );
            }
        }
        for (const route of routing.routes) {
            const targetGroupArn = routing.targetGroupArns[route.color];
            if (targetGroupArn === undefined) {
                throw new Error(`route ${route.logicalName} targets ${route.color}, which has no fleet`);
            }
            this.routeRules.push(
                createWith(
                    "listenerRule",
                    this.args.transform,
                    aws.lb.ListenerRule,
                    route.logicalName,
                    {
                        listenerArn,
                        priority: route.priority,
                        conditions: [...route.conditions],
                        actions: [{ type: "forward", targetGroupArn }],
                        tags: { ...roleTags(this.args.tags, "production"), "switchyard:color": route.color },
                    },
                    { ...opts, aliases: route.aliasNames?.map((n) => ({ name: n })) },
                ),
            );
        }
    }
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
