import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Color, SwitchyardConfig } from "../lib/config";
import { ecrRepositoryArn } from "../lib/images";
import { baseTags } from "../lib/tags";
import { colorsWithTraffic, desiredTasks, fleetColors, isIdle, productionWeights, testListenerTarget, Weights } from "../lib/traffic";
import { ColorFleet, FleetNetwork } from "./colorFleet";
import { HealthGate } from "./healthGate";
import { Monitoring } from "./monitoring";
import { ServerImage } from "./serverImage";
import { EdgeListeners, EdgeRef, ListenerAliases } from "./loadBalancer";
import { ServiceTransforms } from "./transform";
import { RuleSpec, TargetGroupArns, TrafficSwitch } from "./trafficSwitch";
import { ALB_QUOTAS, rulesOf } from "../lib/ruleLayout";
import { StackSpec } from "../lib/stackSpec";

export interface BlueGreenServiceArgs {
    /**
     * The service: its settings (`service.*`), release state (`slots`, `traffic`), strategy, alarms,
     * registry and the stack-wide settings it uses (environment, network, https, testAccess), as
     * lib/config.ts validates them. `argsFromConfig` takes it from a stack file; a program of your
     * own builds one (examples/two-services).
     */
    readonly config: SwitchyardConfig;
    /** A shared load balancer (components/loadBalancer.ts, or an adopted one). @default the service creates its own */
    readonly edge?: EdgeRef;
    /** A shared ECS cluster. @default the service creates its own, `${name}-cluster` */
    readonly cluster?: { readonly arn: pulumi.Input<string> };
    /**
     * The listener rules of this service, as the rule layout plans them (lib/ruleLayout.ts).
     * @default each route at its own priority, named by it; no forward or test rule (the service's
     * weighted forward is the listeners' default action)
     */
    readonly rules?: ServiceRules;
    /**
     * Typed escape hatches per child (target group, task definition, service, listener rule,
     * security group, log group, execution role, alarm): a partial of its args or a function,
     * applied last; a change to what an invariant relies on (target-group port, protocol, VPC and
     * type, names, rule priorities and actions, ...) is refused with the field named
     * (components/transform.ts GUARDED). @default none
     */
    readonly transform?: ServiceTransforms;
    /**
     * More that this service's production routing (its listeners' default actions or its rules)
     * waits for, besides its own services and health gate: in a release train, every member's
     * gate and the routing of the members it requires (program.ts). @default nothing more
     */
    readonly routingWaitsFor?: readonly Promise<readonly pulumi.Resource[]>[];
    /** Earlier URNs of the listeners this service creates, when it is the default of a shared edge (program.ts). @default none */
    readonly listenerAliases?: ListenerAliases;
}

/** Where a service's rules sit on the listeners (lib/ruleLayout.ts decides names, priorities and conditions). */
export interface ServiceRules {
    /** One per `traffic.routes` entry, in the same order. */
    readonly routes: readonly RuleSpec[];
    /** The weighted forward, when the listeners' default action is not this service's. */
    readonly forward?: RuleSpec;
    /** The test listener's rule to the candidate, when that listener's default action is not this service's. */
    readonly test?: RuleSpec;
}

/**
 * One service, blue/green (or rolling): the cluster, the image repository and build, one
 * ColorFleet per colour, and the TrafficSwitch that routes between them.
 */
export class BlueGreenService extends pulumi.ComponentResource {
    /** The settings and release state this service was built from. */
    public readonly config: SwitchyardConfig;
    public readonly productionUrl: pulumi.Output<string>;
    /** Undefined with the rolling strategy (no candidate, no test listener). */
    public readonly testUrl?: pulumi.Output<string>;
    public readonly liveColor: Color;
    public readonly weights: Weights;
    /** The digest-pinned image each colour runs (undefined for an empty slot). */
    public readonly images: Partial<Record<Color, pulumi.Output<string>>>;
    public readonly fleets: Partial<Record<Color, ColorFleet>>;
    public readonly trafficSwitch: TrafficSwitch;
    /** The service's own cluster (undefined on a shared one). */
    public readonly cluster?: aws.ecs.Cluster;
    public readonly clusterArn: pulumi.Output<string>;
    public readonly serverImage: ServerImage;
    public readonly monitoring: Monitoring;
    /** What production routing waits for (blue-green only). */
    public readonly healthGate?: HealthGate;
    /** The production routing this service owns: its listeners (default service) or its rules. */
    public readonly productionRouting: pulumi.Resource[];
    /** The listeners this service created (its own edge, or the default service's on a shared one): other services add rules to them. */
    public readonly listeners?: EdgeListeners;
    /** Per autoscaled colour: what makes `pulumi up` wait for its tasks (blue-green only). */
    public readonly warmGates: Partial<Record<Color, HealthGate>> = {};

    constructor(name: string, args: BlueGreenServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("switchyard:service:BlueGreenService", name, {}, opts);
        const cfg = args.config;
        this.config = cfg;
        const tags = baseTags(cfg.stack, cfg.service.name, cfg.environment);
        const production = cfg.environment === "production";
        const network = resolveNetwork(cfg, { parent: this });

        if (args.cluster) {
            this.clusterArn = pulumi.output(args.cluster.arn);
        } else {
            this.cluster = new aws.ecs.Cluster(
                `${name}-cluster`,
                { settings: [{ name: "containerInsights", value: "enabled" }], tags },
                { parent: this },
            );
            this.clusterArn = this.cluster.arn;
        }

        const buildColor = fleetColors(cfg).find((c) => cfg.slots[c]?.kind === "build");
        const buildSlot = buildColor ? cfg.slots[buildColor] : undefined;
        this.serverImage = new ServerImage(
            `${name}-image`,
            {
                context: buildSlot?.kind === "build" ? buildSlot.context : undefined,
                keepImages: cfg.registry.keepImages,
                retainOnDelete: production,
                tags,
            },
            { parent: this },
        );

        this.images = {};
        for (const color of fleetColors(cfg)) {
            const slot = cfg.slots[color];
            if (slot?.kind === "image") this.images[color] = pulumi.output(slot.image);
            if (slot?.kind === "build") this.images[color] = this.serverImage.repoDigest!;
        }

        this.trafficSwitch = new TrafficSwitch(
            `${name}`,
            {
                tags,
                vpcId: network.vpcId,
                publicSubnetIds: network.publicSubnetIds,
                deletionProtection: production,
                https: cfg.https,
                testAccess: cfg.strategy === "blue-green" ? cfg.testAccess : undefined,
                edge: args.edge,
                transform: args.transform?.listenerRule,
                listenerAliases: args.listenerAliases,
            },
            { parent: this },
        );

        // ECS accepts a target group only once a listener forwards to it, and that listener
        // needs every fleet's target group: the services wait on it through this promise.
        let attached: (listeners: pulumi.Resource[]) => void = () => undefined;
        const attachment = new Promise<pulumi.Resource[]>((resolve) => (attached = resolve));

        this.fleets = {};
        for (const color of fleetColors(cfg)) {
            const slot = cfg.slots[color];
            this.fleets[color] = new ColorFleet(
                `${name}-${color}`,
                {
                    color,
                    tags,
                    network: network.fleet,
                    clusterArn: this.clusterArn,
                    loadBalancerSecurityGroupId: this.trafficSwitch.edge.securityGroupId,
                    port: cfg.service.port,
                    healthCheckPath: cfg.service.healthCheckPath,
                    deregistrationDelaySeconds: cfg.service.deregistrationDelaySeconds,
                    image: this.images[color],
                    imageRepositoryArn:
                        slot?.kind === "build" ? this.serverImage.repository.arn : slot ? ecrRepositoryArn(slot.image) : undefined,
                    desiredCount: desiredTasks(cfg, color),
                    cpu: cfg.service.cpu,
                    memory: cfg.service.memory,
                    stopTimeoutSeconds: cfg.service.stopTimeoutSeconds,
                    deploymentMinimumHealthyPercent: cfg.service.deploymentMinimumHealthyPercent,
                    deploymentMaximumPercent: cfg.service.deploymentMaximumPercent,
                    // Every warm colour scales the same way, so a flip changes no scaling resource.
                    autoscaling: slot && !isIdle(cfg, color) ? cfg.service.autoscaling : undefined,
                    loadBalancerArnSuffix: this.trafficSwitch.edge.loadBalancerArnSuffix,
                    serviceDependsOn: attachment,
                    transform: args.transform,
                },
                { parent: this },
            );
        }
        const targetGroupArns = Object.fromEntries(
            Object.entries(this.fleets).map(([color, fleet]) => [color, fleet!.targetGroup.arn]),
        ) as TargetGroupArns;
        const region = aws.getRegionOutput({}, { parent: this }).region;
        this.monitoring = new Monitoring(
            `${name}-monitoring`,
            {
                tags,
                namePrefix: `switchyard-${cfg.stack}-${cfg.service.name}`,
                loadBalancerArnSuffix: this.trafficSwitch.edge.loadBalancerArnSuffix,
                targetGroupArnSuffixes: Object.fromEntries(
                    Object.entries(this.fleets).map(([color, fleet]) => [color, fleet!.targetGroup.arnSuffix]),
                ),
                alarms: cfg.alarms,
                region,
                transform: args.transform?.alarm,
            },
            { parent: this },
        );

        this.liveColor = cfg.traffic.live;
        this.weights = productionWeights(cfg);
        const rules = args.rules ?? ownRules(name, cfg);
        const routing = {
            targetGroupArns,
            weights: this.weights,
            stickinessSeconds: cfg.traffic.canary?.stickiness,
            routes: cfg.traffic.routes.map((route, i) => ({ ...rules.routes[i], color: route.color })),
            forward: rules.forward,
        };
        const testTarget = testListenerTarget(cfg);
        const scheme = cfg.https ? "https" : "http";
        const dns = this.trafficSwitch.edge.dnsName;
        this.productionUrl = pulumi.interpolate`${scheme}://${dns}`;
        this.testUrl = testTarget !== undefined ? pulumi.interpolate`${scheme}://${dns}:${cfg.testAccess.port}` : undefined;
        if (testTarget !== undefined) {
            attached([this.trafficSwitch.attachTargetGroups(targetGroupArns, testTarget, rules.test)]);
            // Production routing moves only after every service is steady and the colours about
            // to get traffic pass the health gate: enough healthy targets, no alarm firing
            // (invariant 6). A failed gate fails `pulumi up` and leaves the listeners as they were.
            const services = Object.values(this.fleets).flatMap((f) => (f!.service ? [f!.service] : []));
            const trafficColors = colorsWithTraffic(cfg);
            this.healthGate = new HealthGate(
                `${name}-gate`,
                {
                    colors: trafficColors.map((color) => ({
                        color,
                        targetGroupArn: this.fleets[color]!.targetGroup.arn,
                        minHealthy: cfg.service.minHealthyTargets,
                        alarmNames: this.monitoring.alarmNames[color]!,
                        image: this.images[color]!,
                    })),
                    weights: this.weights,
                    lastSafe: { live: cfg.traffic.live, previous: cfg.traffic.previous },
                    timeoutSeconds: cfg.service.gateTimeoutSeconds,
                    region,
                    // Requested only while the candidate is about to get traffic (see HealthGate).
                    probe: cfg.service.gateProbePath
                        ? { url: pulumi.interpolate`${this.testUrl}${cfg.service.gateProbePath}`, color: testTarget }
                        : undefined,
                },
                { parent: this, dependsOn: trafficColors.map((c) => this.fleets[c]!.service!) },
            );
            const gate = this.healthGate;
            const more = args.routingWaitsFor ?? [];
            this.trafficSwitch.route({
                ...routing,
                waitFor: more.length === 0 ? [...services, gate] : Promise.all(more).then((lists) => [...services, gate, ...lists.flat()]),
            });
            this.warmGates = this.gateWarmColors(name, cfg, region);
        } else {
            // Rolling: one fleet, no test listener; ECS replaces its tasks in batches behind the
            // production listener, so the listener comes first and the service attaches to it.
            // No health gate: the ECS deployment circuit breaker rolls back a release whose tasks
            // fail their health checks, and waitForSteadyState makes `pulumi up` wait for that.
            this.trafficSwitch.route(routing);
            attached([this.trafficSwitch.productionListener ?? this.trafficSwitch.forwardRule!]);
        }

        const ts = this.trafficSwitch;
        this.productionRouting = [
            ...(ts.productionListener ? [ts.productionListener] : []),
            ...(ts.httpRedirectListener ? [ts.httpRedirectListener] : []),
            ...(ts.forwardRule ? [ts.forwardRule] : []),
            ...ts.routeRules,
        ];
        if (ts.productionListener) {
            this.listeners = { productionArn: ts.productionListener.arn, testArn: ts.testListener?.arn };
        }
        this.registerOutputs({
            productionUrl: this.productionUrl,
            testUrl: this.testUrl,
            liveColor: this.liveColor,
            weights: this.weights,
            images: this.images,
            clusterArn: this.clusterArn,
            productionListenerArn: this.listeners?.productionArn,
            testListenerArn: this.listeners?.testArn,
        });
    }

    /**
     * With autoscaling, the service ignores desiredCount changes (autoscaling owns the count), so
     * a release into an idle colour keeps its idle count from the state. Registering the colour's
     * scalable target raises its capacity into min..max ("it changes the resource's current
     * capacity to a value that is inside of this range",
     * https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html),
     * but after `pulumi up` returned. This gate makes the update that warms a colour (or gives it
     * a new image) wait until it has `minHealthyTargets` healthy targets. Alarms are not checked:
     * the colour gets no traffic from this update.
     */
    private gateWarmColors(name: string, cfg: SwitchyardConfig, region: pulumi.Input<string>): Partial<Record<Color, HealthGate>> {
        const gates: Partial<Record<Color, HealthGate>> = {};
        for (const color of fleetColors(cfg)) {
            const fleet = this.fleets[color]!;
            if (!fleet.scalingTarget) continue;
            gates[color] = new HealthGate(
                `${name}-${color}-warm`,
                {
                    colors: [
                        {
                            color,
                            targetGroupArn: fleet.targetGroup.arn,
                            minHealthy: cfg.service.minHealthyTargets,
                            alarmNames: [],
                            image: this.images[color]!,
                        },
                    ],
                    timeoutSeconds: cfg.service.gateTimeoutSeconds,
                    region,
                },
                { parent: this, dependsOn: [fleet.service!, fleet.scalingTarget] },
            );
        }
        return gates;
    }
}

/**
 * The rules of a service with its own load balancer (the single-service form), as the rule layout
 * plans them (each route at its own priority, named by it), with the index names rules had
 * before (`${name}-route-<index>`) as aliases, so stacks deployed then keep their rules.
 */
export function ownRules(name: string, cfg: SwitchyardConfig): ServiceRules {
    const spec: StackSpec = {
        stack: cfg.stack,
        form: "single",
        edge: { default: name, maxRules: ALB_QUOTAS.rulesPerLoadBalancer },
        services: [{ ...cfg, keyPath: [] }],
    };
    const planned = rulesOf(spec, name);
    return { ...planned, routes: planned.routes.map((r) => ({ ...r, aliasNames: [`${name}-route-${r.routeIndex}`] })) };
}

/** The VPC and subnets: from `switchyard:network`, or the account's default VPC. */
export function resolveNetwork(
    cfg: Pick<SwitchyardConfig, "network">,
    opts: pulumi.InvokeOptions = {},
): { vpcId: pulumi.Input<string>; publicSubnetIds: pulumi.Input<string[]>; fleet: FleetNetwork } {
    if (cfg.network) {
        return {
            vpcId: cfg.network.vpcId,
            publicSubnetIds: [...cfg.network.publicSubnetIds],
            fleet: { vpcId: cfg.network.vpcId, subnetIds: [...cfg.network.privateSubnetIds], assignPublicIp: false },
        };
    }
    const vpc = aws.ec2.getVpcOutput({ default: true }, opts);
    const subnets = aws.ec2.getSubnetsOutput(
        {
            filters: [
                { name: "vpc-id", values: [vpc.id] },
                { name: "default-for-az", values: ["true"] },
            ],
        },
        opts,
    );
    // Default subnets are public and have no NAT: tasks need a public IP to pull images.
    return { vpcId: vpc.id, publicSubnetIds: subnets.ids, fleet: { vpcId: vpc.id, subnetIds: subnets.ids, assignPublicIp: true } };
}
