/**
 * The switchyard CrossGuard policies: what a platform team enforces on any stack that deploys a
 * service with switchyard. Exported without a PolicyPack so tests can run them directly
 * (constructing a PolicyPack starts a gRPC server for the Pulumi engine); policy/index.ts serves
 * them to `pulumi preview --policy-pack policy`.
 *
 * The pack is self-contained (it imports nothing from the project) so it can also be published
 * with `pulumi policy publish`; the tag names below are switchyard's contract (lib/tags.ts) and a
 * test keeps them equal.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
    UnknownValueError,
    validateResourceOfType,
} from "@pulumi/policy";

export const TAG_STACK = "switchyard:stack";
export const TAG_ROLE = "switchyard:role";
export const TAG_ENVIRONMENT = "switchyard:environment";

/** Stack names (`switchyard:stack` tag values) that are production without further config. */
export const PRODUCTION_STACKS: readonly string[] = ["prod", "production"];
/** Ports the production listener may serve the world on; every other ALB port is private. */
export const PUBLIC_PORTS: readonly number[] = [80, 443];
const WORLD = ["0.0.0.0/0", "::/0"];
const DIGEST = /@sha256:[0-9a-f]{64}$/;

/** Per-policy config of `production-alb-hardening` (`--policy-pack-config`). */
export interface EnvironmentConfig {
    /** `production` applies the production rules to every resource, whatever its tags say. */
    readonly environment?: "development" | "production";
}

type Tags = Record<string, string> | undefined;
type ListenerProps = pulumi.Unwrap<aws.lb.ListenerArgs>;
type LoadBalancerProps = pulumi.Unwrap<aws.lb.LoadBalancerArgs>;
type TargetGroupProps = pulumi.Unwrap<aws.lb.TargetGroupArgs>;

/** 1. Every container image of every ECS task definition is pinned by digest. */
export const imagesPinnedByDigest: ResourceValidationPolicy = {
    name: "images-pinned-by-digest",
    description: "ECS task definitions run container images pinned by digest (<repo>@sha256:<64 hex>), never by a mutable tag.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ecs.TaskDefinition, (td, args, reportViolation) => {
        let containers: unknown;
        try {
            containers = JSON.parse(td.containerDefinitions);
        } catch {
            reportViolation(
                `task definition ${args.name}: containerDefinitions is not valid JSON, so its images cannot be checked; pass a JSON array of container definitions`,
            );
            return;
        }
        for (const [i, c] of (Array.isArray(containers) ? containers : []).entries()) {
            const container = c as { name?: string; image?: unknown };
            const label = container.name ?? `#${i}`;
            if (typeof container.image !== "string" || !DIGEST.test(container.image)) {
                reportViolation(
                    `task definition ${args.name}: container ${label} uses image ${JSON.stringify(container.image)}, which is not pinned by digest; ` +
                        `use <repo>@sha256:<64 hex digits> (switchyard:slots.<color>.image), because tags such as :latest can be moved to another build`,
                );
            }
        }
    }),
};

/** 2. ECR repositories have immutable tags and scan every pushed image. */
export const ecrImmutableAndScanned: ResourceValidationPolicy = {
    name: "ecr-immutable-and-scanned",
    description: "ECR repositories use imageTagMutability IMMUTABLE and scan images on push.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ecr.Repository, (repo, args, reportViolation) => {
        if (repo.imageTagMutability !== "IMMUTABLE") {
            reportViolation(
                `ECR repository ${args.name}: imageTagMutability is ${repo.imageTagMutability ?? "unset (MUTABLE)"}; ` +
                    `set imageTagMutability: "IMMUTABLE" so a pushed tag can never point at a different image`,
            );
        }
        if (repo.imageScanningConfiguration?.scanOnPush !== true) {
            reportViolation(
                `ECR repository ${args.name}: images are not scanned on push; set imageScanningConfiguration: { scanOnPush: true }`,
            );
        }
    }),
};

/**
 * 3. The test listener is never open to the world. A stack policy: the test port comes from the
 * listeners tagged `switchyard:role: test`, the ALB's security groups from what the load
 * balancers depend on. Flags any ingress rule open to 0.0.0.0/0 or ::/0 that covers a test port
 * (on any security group), and any on an ALB security group that covers a port other than 80/443.
 */
export const testListenerNotPublic: StackValidationPolicy = {
    name: "test-listener-not-public",
    description:
        "No load balancer security group lets 0.0.0.0/0 or ::/0 reach a port other than 80/443 (the test listener serves untested builds).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const testPorts = new Map<number, string>();
        for (const r of args.resources) {
            if (isListener(r) && tagsOf(r)?.[TAG_ROLE] === "test" && typeof r.props.port === "number") {
                testPorts.set(r.props.port, r.name);
            }
        }
        const albGroups = new Set<string>();
        for (const r of args.resources) {
            if (isApplicationLoadBalancer(r)) {
                for (const sg of [...(r.propertyDependencies.securityGroups ?? []), ...r.dependencies]) {
                    if (sg.type === SECURITY_GROUP) albGroups.add(sg.urn);
                }
            }
        }
        for (const rule of ingressRules(args.resources)) {
            const open = rule.cidrs.filter((c) => WORLD.includes(c));
            if (open.length === 0) continue;
            const onAlb = rule.groupUrns.some((u) => albGroups.has(u));
            const testHit = [...testPorts].find(([port]) => rule.covers(port));
            const privateHit = onAlb && !rule.onlyPorts(PUBLIC_PORTS);
            if (!testHit && !privateHit) continue;
            const what = testHit
                ? `port ${testHit[0]}, the port of test listener ${testHit[1]}`
                : `${rule.portText}, a port other than 80/443 on a load balancer`;
            reportViolation(
                `security group ${rule.owner}: ingress rule ${rule.label} allows ${open.join(" and ")} to reach ${what}; ` +
                    `the test listener serves untested builds and must be reachable only from switchyard:testAccess.cidrs: ` +
                    `remove ${open.join(" and ")} and list the public range of your VPN, office or CI runner (e.g. 203.0.113.0/24)`,
                rule.urn,
            );
        }
    },
};

/** 4. Production load balancers are deletion-protected and serve production traffic over HTTPS:443. */
export const productionAlbHardening: ResourceValidationPolicy = {
    name: "production-alb-hardening",
    description:
        "In production (tag switchyard:environment production, tag switchyard:stack prod/production, or policy config environment: production), the ALB has deletion protection " +
        "and the production listener is HTTPS on 443, with port 80 only redirecting to HTTPS.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            environment: {
                type: "string",
                enum: ["development", "production"],
                description: "production applies these rules to every resource",
            },
        },
    },
    validateResource: [
        validateResourceOfType(aws.lb.LoadBalancer, checkDeletionProtection),
        validateResourceOfType(aws.alb.LoadBalancer, checkDeletionProtection),
        validateResourceOfType(aws.lb.Listener, checkProductionListenerHttps),
        validateResourceOfType(aws.alb.Listener, checkProductionListenerHttps),
    ],
};

function checkDeletionProtection(lb: LoadBalancerProps, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if ((lb.loadBalancerType ?? "application") !== "application") return;
    const why = productionReason(lb.tags, args.getConfig<EnvironmentConfig>());
    if (why && lb.enableDeletionProtection !== true) {
        reportViolation(
            `load balancer ${args.name} is production (${why}) but enableDeletionProtection is not true; ` +
                `set enableDeletionProtection: true (switchyard does when switchyard:environment is production) so it cannot be deleted by accident`,
        );
    }
}

function checkProductionListenerHttps(listener: ListenerProps, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if (listener.tags?.[TAG_ROLE] !== "production") return;
    const why = productionReason(listener.tags, args.getConfig<EnvironmentConfig>());
    if (!why) return;
    const https443 = listener.port === 443 && listener.protocol === "HTTPS";
    const redirect80 =
        listener.port === 80 &&
        listener.defaultActions.length > 0 &&
        listener.defaultActions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
    if (!https443 && !redirect80) {
        const actions = listener.defaultActions.map((a) => a.type).join(", ");
        reportViolation(
            `production listener ${args.name} is production (${why}) but listens on ${listener.protocol ?? "HTTP"}:${listener.port ?? "?"} ` +
                `with default action ${actions}; production traffic must use HTTPS on 443 and port 80 may only redirect to HTTPS: ` +
                `set switchyard:https.certificateArn to an ACM certificate`,
        );
    }
}

/** 5. The production listener's weighted forward splits exactly 100 % of the traffic. */
export const productionWeightsSumTo100: ResourceValidationPolicy = {
    name: "production-weights-sum-to-100",
    description: "A listener tagged switchyard:role production that forwards by weight gives each target group 0..100 and 100 in total.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.lb.Listener, checkProductionWeights),
        validateResourceOfType(aws.alb.Listener, checkProductionWeights),
    ],
};

function checkProductionWeights(listener: ListenerProps, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if (listener.tags?.[TAG_ROLE] !== "production") return;
    for (const action of listener.defaultActions) {
        const groups = action.type === "forward" ? action.forward?.targetGroups : undefined;
        if (!groups) continue;
        const weights = groups.map((g) => g.weight);
        // ARNs are unknown in a preview of new target groups: name them by position then.
        const parts = groups
            .map((g, i) => `${whenKnown(() => shortArn(g.arn), `target group ${i + 1}`)} ${g.weight ?? "(no weight)"}`)
            .join(" + ");
        const bad = weights.some((w) => typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 100);
        const sum = weights.reduce<number>((s, w) => s + (w ?? 0), 0);
        if (bad || sum !== 100) {
            reportViolation(
                `production listener ${args.name} forwards with weights ${parts} = ${sum}; each weight must be a whole number 0..100 ` +
                    `and together they must be 100: fix switchyard:traffic (live, canary.percent) rather than the listener`,
            );
        }
    }
}

/** 6. Target groups health-check a path, so the ALB and the health gate see an unhealthy build. */
export const targetGroupHealthCheck: ResourceValidationPolicy = {
    name: "target-group-health-check",
    description: "Target groups have health checks enabled with a path.",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(aws.lb.TargetGroup, checkHealthCheck),
        validateResourceOfType(aws.alb.TargetGroup, checkHealthCheck),
    ],
};

function checkHealthCheck(tg: TargetGroupProps, args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    const hc = tg.healthCheck;
    const fix = `set healthCheck: { enabled: true, path: "/healthz" } (switchyard:service.healthCheckPath)`;
    if (!hc) {
        reportViolation(`target group ${args.name} has no health check; ${fix}`);
    } else if (hc.enabled === false) {
        reportViolation(`target group ${args.name} has its health check disabled; ${fix}`);
    } else if ((hc.protocol === undefined || hc.protocol === "HTTP" || hc.protocol === "HTTPS") && !hc.path) {
        reportViolation(`target group ${args.name} health-checks without a path; ${fix}`);
    }
}

/** Advisory: ECS rolls a failing deployment back by itself. */
export const ecsCircuitBreaker: ResourceValidationPolicy = {
    name: "ecs-deployment-circuit-breaker",
    description: "ECS services use the deployment circuit breaker with rollback.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(aws.ecs.Service, (svc, args, reportViolation) => {
        const controller = svc.deploymentController?.type ?? "ECS";
        if (controller !== "ECS") return; // the circuit breaker exists only for the ECS controller
        const cb = svc.deploymentCircuitBreaker;
        if (cb?.enable !== true || cb.rollback !== true) {
            reportViolation(
                `ECS service ${args.name} has no deployment circuit breaker with rollback; ` +
                    `set deploymentCircuitBreaker: { enable: true, rollback: true } so a deployment whose tasks keep failing rolls back`,
            );
        }
    }),
};

export const policies = [
    imagesPinnedByDigest,
    ecrImmutableAndScanned,
    testListenerNotPublic,
    productionAlbHardening,
    productionWeightsSumTo100,
    targetGroupHealthCheck,
    ecsCircuitBreaker,
];

/** Why a resource counts as production, or undefined when it does not. */
export function productionReason(tags: Tags, config: EnvironmentConfig): string | undefined {
    const stack = tags?.[TAG_STACK];
    if (tags?.[TAG_ENVIRONMENT] === "production") return `tag ${TAG_ENVIRONMENT}=production`;
    // A stack named prod stays production here even if its file says environment: development.
    if (stack !== undefined && PRODUCTION_STACKS.includes(stack)) return `tag ${TAG_STACK}=${stack}`;
    if (config.environment === "production") return "policy config environment: production";
    return undefined;
}

const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const LISTENER_TYPES = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"];
const LOAD_BALANCER_TYPES = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"];

function tagsOf(r: PolicyResource): Tags {
    return r.props.tags as Tags;
}

function isListener(r: PolicyResource): boolean {
    return LISTENER_TYPES.includes(r.type);
}

function isApplicationLoadBalancer(r: PolicyResource): boolean {
    return LOAD_BALANCER_TYPES.includes(r.type) && (r.props.loadBalancerType ?? "application") === "application";
}

/** One ingress rule, inline in a security group or a resource of its own. */
interface IngressRule {
    /** The resource that declares it (reported against). */
    readonly urn: string;
    /** Human name: the security group, or the rule resource and its group. */
    readonly owner: string;
    readonly label: string;
    readonly cidrs: readonly string[];
    /** URNs of the security groups the rule belongs to. */
    readonly groupUrns: readonly string[];
    readonly portText: string;
    covers(port: number): boolean;
    onlyPorts(ports: readonly number[]): boolean;
}

function ingressRules(resources: readonly PolicyResource[]): IngressRule[] {
    const rules: IngressRule[] = [];
    for (const r of resources) {
        if (r.type === SECURITY_GROUP) {
            const ingress = (r.props.ingress ?? []) as Array<Record<string, any>>;
            ingress.forEach((rule, i) => {
                rules.push(
                    makeRule(
                        r,
                        r.name,
                        `#${i}${rule.description ? ` (${rule.description})` : ""}`,
                        [r.urn],
                        rule.protocol,
                        rule.fromPort,
                        rule.toPort,
                        [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])],
                    ),
                );
            });
        } else if (r.type === "aws:ec2/securityGroupRule:SecurityGroupRule" && r.props.type === "ingress") {
            const groups = groupsOf(r, "securityGroupId");
            rules.push(
                makeRule(
                    r,
                    groupNames(groups, r),
                    r.name,
                    groups.map((g) => g.urn),
                    r.props.protocol,
                    r.props.fromPort,
                    r.props.toPort,
                    [...(r.props.cidrBlocks ?? []), ...(r.props.ipv6CidrBlocks ?? [])],
                ),
            );
        } else if (r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
            const groups = groupsOf(r, "securityGroupId");
            const cidrs = [r.props.cidrIpv4, r.props.cidrIpv6].filter((c): c is string => typeof c === "string");
            rules.push(
                makeRule(
                    r,
                    groupNames(groups, r),
                    r.name,
                    groups.map((g) => g.urn),
                    r.props.ipProtocol,
                    r.props.fromPort,
                    r.props.toPort,
                    cidrs,
                ),
            );
        }
    }
    return rules;
}

function groupsOf(r: PolicyResource, property: string): PolicyResource[] {
    const deps = r.propertyDependencies[property]?.length ? r.propertyDependencies[property] : r.dependencies;
    return deps.filter((d) => d.type === SECURITY_GROUP);
}

function groupNames(groups: readonly PolicyResource[], rule: PolicyResource): string {
    return groups.length > 0 ? groups.map((g) => g.name).join(", ") : `of rule ${rule.name}`;
}

function makeRule(
    r: PolicyResource,
    owner: string,
    label: string,
    groupUrns: string[],
    protocol: unknown,
    fromPort: unknown,
    toPort: unknown,
    cidrs: string[],
): IngressRule {
    const all = protocol === "-1" || protocol === "all" || protocol === -1;
    // ICMP has types, not ports: it never reaches a listener.
    const icmp = ["icmp", "icmpv6", "1", "58"].includes(String(protocol).toLowerCase());
    const from = all ? 0 : Number(fromPort ?? 0);
    const to = all ? 65535 : Number(toPort ?? from);
    return {
        urn: r.urn,
        owner,
        label,
        cidrs,
        groupUrns,
        portText: all ? "every port" : from === to ? `port ${from}` : `ports ${from}-${to}`,
        covers: (port) => !icmp && port >= from && port <= to,
        onlyPorts: (ports) => icmp || (from === to && ports.includes(from)),
    };
}

/** `read()`, or `fallback` when it reads a value that is unknown during preview. */
function whenKnown<T>(read: () => T, fallback: T): T {
    try {
        return read();
    } catch (e) {
        if (e instanceof UnknownValueError) return fallback;
        throw e;
    }
}

/** `arn:aws:elasticloadbalancing:…:targetgroup/web-blue-tg-123/abc` → `web-blue-tg-123`. */
function shortArn(arn: string): string {
    const match = /targetgroup\/([^/]+)/.exec(arn);
    return match ? match[1] : (arn.split(/[/:]/).pop() ?? arn);
}
