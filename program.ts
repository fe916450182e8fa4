/**
 * The Pulumi program for a validated stack (lib/config.ts parseStack): the shared edge, then one
 * BlueGreenService per service, the default service first (its weighted forward is the
 * listeners' default action, so it creates them and the others add rules to them). index.ts
 * and `plan` (which evaluates index.ts under the mocks) run it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BlueGreenService } from "./components/blueGreenService";
import { EdgeRef, ListenerAliases, LoadBalancer, adoptedEdgeRef } from "./components/loadBalancer";
import { Color } from "./lib/model";
import { rulesOf } from "./lib/ruleLayout";
import { EDGE_NAME } from "./lib/parse/services";
import { StackSpec, isDefaultService } from "./lib/stackSpec";
import { baseTags } from "./lib/tags";
import { testListenerTarget } from "./lib/traffic";
import { resolveNetwork } from "./components/blueGreenService";

/** What one service exports: what people, the release tool and verify read. */
export interface ServiceOutputs {
    readonly productionUrl: pulumi.Output<string>;
    /** The candidate, for testers in testAccess.cidrs (blue-green only). */
    readonly testUrl: pulumi.Output<string> | null;
    readonly liveColor: Color;
    /** The colour the test listener serves, which a release goes into (blue-green only). */
    readonly candidateColor: Color | null;
    /** Share of the service's default production traffic per colour, in percent. */
    readonly weights: Readonly<Record<Color, number>>;
    /** The digest-pinned image each colour runs; null for an empty slot. */
    readonly images: Readonly<Record<Color, pulumi.Output<string> | null>>;
    readonly arns: {
        readonly loadBalancer: pulumi.Input<string>;
        readonly productionListener: pulumi.Input<string> | null;
        readonly testListener: pulumi.Input<string> | null;
        readonly cluster: pulumi.Input<string>;
        readonly repository: pulumi.Input<string>;
        readonly targetGroups: Readonly<Record<Color, pulumi.Input<string> | null>>;
        readonly services: Readonly<Record<Color, pulumi.Input<string> | null>>;
    };
    readonly repositoryUrl: pulumi.Output<string>;
}

/** The single-service form exports one service's outputs at the top (as it always has); the services form one entry per service. */
export type ProgramOutputs =
    | ({ readonly form: "single" } & ServiceOutputs)
    | {
          readonly form: "services";
          readonly productionUrl: pulumi.Output<string>;
          readonly edge: { readonly loadBalancer: pulumi.Input<string>; readonly cluster: pulumi.Input<string> };
          readonly services: Readonly<Record<string, ServiceOutputs>>;
      };

export function program(spec: StackSpec): ProgramOutputs {
    if (spec.form === "single") {
        const cfg = spec.services[0];
        return { form: "single", ...outputsOf(new BlueGreenService(cfg.service.name, { config: cfg })) };
    }
    const { edge, cluster } = sharedEdge(spec);
    // The default service first: it creates the listeners the others add rules to.
    const ordered = [...spec.services].sort((a, b) => Number(isDefaultService(spec, b)) - Number(isDefaultService(spec, a)));
    const services: Record<string, ServiceOutputs> = {};
    const built = new Map<string, BlueGreenService>();
    const order = trainOrder(spec);
    let listeners = edge.listeners;
    for (const cfg of ordered) {
        const rules = rulesOf(spec, cfg.service.name);
        const service = new BlueGreenService(cfg.service.name, {
            config: cfg,
            edge: { ...edge, listeners: isDefaultService(spec, cfg) ? undefined : listeners },
            cluster,
            rules,
            routingWaitsFor: order.waitsFor(cfg.service.name),
            listenerAliases: isDefaultService(spec, cfg) ? listenerAliases(spec, cfg.service.name) : undefined,
        });
        built.set(cfg.service.name, service);
        if (isDefaultService(spec, cfg)) listeners = service.listeners;
        services[cfg.service.name] = outputsOf(service);
    }
    order.resolve(built);
    const scheme = spec.services[0].https ? "https" : "http";
    return {
        form: "services",
        productionUrl: pulumi.interpolate`${scheme}://${edge.dnsName}`,
        edge: { loadBalancer: edge.loadBalancerArn, cluster: cluster.arn },
        services: Object.fromEntries(spec.services.map((s) => [s.service.name, services[s.service.name]])),
    };
}

/**
 * The order inside one `pulumi up` for release trains (DESIGN "Dependent services and release
 * trains"): each member's production routing waits for every member's health gate, so no member
 * moves traffic before all of them are healthy; and a member's routing changes after that of the
 * members it requires (earlier in the train), so a caller never gets traffic before what it calls.
 * Within that one update the ALB still applies each rule change as its own call, seconds apart:
 * the co-existence guard (invariant 13) makes every state in between safe. Members are built in
 * any order (the default service first), so what a member waits for is handed to it as promises,
 * kept when every service exists. Not for a member whose listeners carry the required service's
 * rules (the default service): those rules already follow its listeners, and waiting on them
 * back would be a cycle.
 */
function trainOrder(spec: StackSpec): {
    waitsFor(service: string): Promise<readonly pulumi.Resource[]>[];
    resolve(built: ReadonlyMap<string, BlueGreenService>): void;
} {
    const keep: ((built: ReadonlyMap<string, BlueGreenService>) => void)[] = [];
    const later = (get: (built: ReadonlyMap<string, BlueGreenService>) => readonly pulumi.Resource[]) =>
        new Promise<readonly pulumi.Resource[]>((resolve) => keep.push((built) => resolve(get(built))));
    const requires = (service: string): Set<string> => {
        const cfg = spec.services.find((s) => s.service.name === service)!;
        return new Set(Object.values(cfg.slots).flatMap((slot) => Object.keys(slot?.requires ?? {})));
    };
    return {
        waitsFor(service) {
            const waits: Promise<readonly pulumi.Resource[]>[] = [];
            for (const train of spec.trains ?? []) {
                const at = train.services.indexOf(service);
                if (at < 0) continue;
                const others = train.services.filter((m) => m !== service);
                waits.push(later((built) => others.map((m) => built.get(m)!.healthGate!)));
                if (spec.edge.default === service) continue;
                const required = train.services.slice(0, at).filter((m) => requires(service).has(m));
                waits.push(later((built) => required.flatMap((m) => built.get(m)!.productionRouting)));
            }
            return waits;
        },
        resolve(built) {
            for (const k of keep) k(built);
        },
    };
}

/**
 * The edge of the services form: adopted (nothing created), or a LoadBalancer component with
 * the cluster. When the stack was a single service moved into `switchyard:services` as the
 * default, the edge's load balancer, security group and cluster are that service's, by alias.
 */
function sharedEdge(spec: StackSpec): { edge: EdgeRef; cluster: { arn: pulumi.Input<string> } } {
    const first = spec.services[0];
    const tags = baseTags(spec.stack, EDGE_NAME, first.environment);
    const testAccess = spec.services.some((s) => s.strategy === "blue-green") ? first.testAccess : undefined;
    const adopt = spec.edge.adopt;
    if (adopt) {
        const cluster = new aws.ecs.Cluster(`${EDGE_NAME}-cluster`, { settings: [{ name: "containerInsights", value: "enabled" }], tags });
        return {
            edge: adoptedEdgeRef({ ...adopt, https: first.https !== undefined, testPort: testAccess?.port ?? 0 }),
            cluster,
        };
    }
    const network = resolveNetwork(first);
    const lb = new LoadBalancer(EDGE_NAME, {
        tags,
        vpcId: network.vpcId,
        publicSubnetIds: network.publicSubnetIds,
        deletionProtection: first.environment === "production",
        https: first.https,
        testAccess,
        listeners: spec.edge.default === undefined,
        aliases: spec.edge.default ? singleFormUrns(spec.stack, spec.edge.default) : undefined,
        listenerAliases: spec.edge.default === undefined ? listenerAliases(spec, EDGE_NAME) : undefined,
    });
    return { edge: lb.ref, cluster: lb.cluster };
}

/**
 * The URNs the listeners had under any other owner: the edge (no default service) or a service of
 * this stack as the default (`${service}-prod-listener` under its TrafficSwitch). Whoever owns them
 * now answers to all the others, so changing `loadBalancer.default` updates the listeners in place.
 */
export function listenerAliases(spec: StackSpec, owner: string): ListenerAliases {
    const project = pulumi.getProject();
    const urn = (types: string, name: string) => `urn:pulumi:${spec.stack}::${project}::${types}$aws:lb/listener:Listener::${name}`;
    const owners = [
        { name: EDGE_NAME, types: "switchyard:edge:LoadBalancer" },
        ...spec.services.map((s) => ({
            name: s.service.name,
            types: "switchyard:service:BlueGreenService$switchyard:traffic:TrafficSwitch",
        })),
    ].filter((o) => o.name !== owner);
    return {
        production: owners.map((o) => urn(o.types, `${o.name}-prod-listener`)),
        test: owners.map((o) => urn(o.types, `${o.name}-test-listener`)),
        redirect: owners.map((o) => urn(o.types, `${o.name}-http-redirect`)),
    };
}

/**
 * Where the single-service form kept the edge of service `name`: its security group and load
 * balancer under its TrafficSwitch, its cluster under the service
 * (`switchyard:service:BlueGreenService$switchyard:traffic:TrafficSwitch$…`).
 */
export function singleFormUrns(stack: string, name: string): { securityGroup: string; loadBalancer: string; cluster: string } {
    const project = pulumi.getProject();
    const service = "switchyard:service:BlueGreenService";
    const traffic = `${service}$switchyard:traffic:TrafficSwitch`;
    const urn = (types: string, resourceName: string) => `urn:pulumi:${stack}::${project}::${types}::${resourceName}`;
    return {
        securityGroup: urn(`${traffic}$aws:ec2/securityGroup:SecurityGroup`, `${name}-alb`),
        loadBalancer: urn(`${traffic}$aws:lb/loadBalancer:LoadBalancer`, `${name}-alb`),
        cluster: urn(`${service}$aws:ecs/cluster:Cluster`, `${name}-cluster`),
    };
}

function outputsOf(service: BlueGreenService): ServiceOutputs {
    const cfg = service.config;
    const fleets = service.fleets;
    const ts = service.trafficSwitch;
    return {
        productionUrl: service.productionUrl,
        testUrl: service.testUrl ?? null,
        liveColor: service.liveColor,
        candidateColor: testListenerTarget(cfg) ?? null,
        weights: service.weights,
        images: { blue: service.images.blue ?? null, green: service.images.green ?? null },
        arns: {
            loadBalancer: ts.edge.loadBalancerArn,
            productionListener: ts.productionListener?.arn ?? ts.edge.listeners?.productionArn ?? null,
            testListener: ts.testListener?.arn ?? ts.edge.listeners?.testArn ?? null,
            cluster: service.clusterArn,
            repository: service.serverImage.repository.arn,
            targetGroups: { blue: fleets.blue?.targetGroup.arn ?? null, green: fleets.green?.targetGroup.arn ?? null },
            services: { blue: fleets.blue?.service?.id ?? null, green: fleets.green?.service?.id ?? null },
        },
        repositoryUrl: service.serverImage.repository.repositoryUrl,
    };
}
