/**
 * Finds a stack's load balancer, target groups and listeners by the tags the stack puts on them,
 * and reads their state (listener actions, rules, target health). Read-only: Describe* calls only.
 *
 * Tags: the ALB carries `switchyard:stack` and `switchyard:service`; target groups carry those
 * plus `switchyard:color`; listeners carry `switchyard:role` (`production` | `test`).
 */
import {
    Action,
    DescribeListenersCommand,
    DescribeRulesCommand,
    DescribeTagsCommand,
    DescribeTargetHealthCommand,
    ElasticLoadBalancingV2Client,
    LoadBalancer,
    TargetGroup,
    paginateDescribeLoadBalancers,
    paginateDescribeTargetGroups,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { COLORS, Color } from "../config";
import { ListenerRole, TAG_COLOR, TAG_ROLE, TAG_SERVICE, TAG_STACK } from "../tags";
import { elbv2Client } from "./clients";
import { AwsError, awsCall, translate } from "./errors";

export const TAG = { stack: TAG_STACK, service: TAG_SERVICE, color: TAG_COLOR, role: TAG_ROLE } as const;

/** Region for AWS clients: the one given, else `AWS_REGION`; a clear error when neither is set. */
export function resolveRegion(region?: string): string {
    const r = region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (!r) throw new AwsError("no AWS region: set AWS_REGION (or aws:region in the stack file)", "RegionMissing");
    return r;
}

/** Target-health states of one target group, as counts. */
export interface TargetHealthSummary {
    readonly total: number;
    readonly healthy: number;
    /** Targets not in state `healthy`, grouped by state and reason code. */
    readonly notHealthy: readonly { readonly state: string; readonly reason: string; readonly count: number }[];
}

/** `unhealthy: 1 Target.FailedHealthChecks; initial: 1 Elb.RegistrationInProgress`, or `no targets registered`. */
export function describeNotHealthy(h: TargetHealthSummary): string {
    if (h.total === 0) return "no targets registered";
    if (h.notHealthy.length === 0) return "all targets healthy";
    return h.notHealthy.map((n) => `${n.state}: ${n.count} ${n.reason}`).join("; ");
}

/** DescribeTargetHealth for one target group; a missing group is an error naming its ARN. */
export async function readTargetHealth(client: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<TargetHealthSummary> {
    let out;
    try {
        out = await client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
    } catch (err) {
        const e = err as { name?: string; Code?: string };
        if (e?.name === "TargetGroupNotFoundException" || e?.Code === "TargetGroupNotFound") {
            throw new AwsError(
                `target group ${targetGroupArn} does not exist (is the ARN from another region or account, or was the group deleted?)`,
                "TargetGroupNotFound",
            );
        }
        throw translate("elasticloadbalancing:DescribeTargetHealth", err);
    }
    const counts = new Map<string, { state: string; reason: string; count: number }>();
    let healthy = 0;
    const descriptions = out.TargetHealthDescriptions ?? [];
    for (const d of descriptions) {
        const state = d.TargetHealth?.State ?? "unknown";
        if (state === "healthy") {
            healthy++;
            continue;
        }
        const reason = d.TargetHealth?.Reason ?? "no reason given";
        const key = `${state}|${reason}`;
        const entry = counts.get(key) ?? { state, reason, count: 0 };
        entry.count++;
        counts.set(key, entry);
    }
    return { total: descriptions.length, healthy, notHealthy: [...counts.values()] };
}

/** One target group a forward action sends to, with its raw ALB weight. */
export interface ForwardTarget {
    readonly targetGroupArn: string;
    /** The colour of the target group, or undefined when it is not one of this stack's groups. */
    readonly color: Color | undefined;
    readonly weight: number;
}

export interface RuleState {
    readonly priority: number;
    readonly forward: readonly ForwardTarget[];
}

export interface ListenerState {
    readonly arn: string;
    readonly port: number | undefined;
    /** The default action's forward targets (or forwardSource's); empty when it is not a forward. */
    readonly forward: readonly ForwardTarget[];
    /** Where `forward` was read when not from the default action: `rule 199 (api-forward)` (lib/verify.ts serviceState). */
    readonly forwardSource?: string;
    /** Non-default rules in priority order. */
    readonly rules: readonly RuleState[];
}

/** What AWS holds for one stack's service. */
export interface StackState {
    readonly region: string;
    readonly loadBalancer: { readonly arn: string; readonly name: string; readonly dnsName: string | undefined };
    readonly targetGroups: Partial<Record<Color, string>>;
    readonly listeners: Partial<Record<ListenerRole, ListenerState>>;
    readonly health: Partial<Record<Color, TargetHealthSummary>>;
}

export interface FindStackOptions {
    readonly stack: string;
    readonly service: string;
    readonly region?: string;
    readonly client?: ElasticLoadBalancingV2Client;
    /** The listeners of an adopted edge (`switchyard:loadBalancer.adopt`): used whatever their tags. */
    readonly listenerArns?: Partial<Record<ListenerRole, string>>;
}

/** The tag value of the shared edge's resources (program.ts tags the ALB of `switchyard:services` so). */
export const EDGE_SERVICE = "edge";

/**
 * Finds the service's target groups by their tags (stack, service, colour), its ALB through them,
 * and reads the ALB's listeners and target health. Returns undefined when no ALB is found; throws
 * when the service's groups are attached to more than one ALB or more than one ALB fits the tags.
 *
 * The ALB is the one the service's target groups name in `LoadBalancerArns` ("The Amazon Resource
 * Name (ARN) of the load balancer that routes traffic to this target group. You can use each
 * target group with only one load balancer.", TargetGroup in botocore's elbv2 service-2.json): on a shared edge the ALB is tagged `switchyard:service=edge`,
 * not with the service. Only when no group is attached to one is the ALB found by its own tags:
 * the service's (the single-service form), else the stack's edge.
 */
export async function findStack(opts: FindStackOptions): Promise<StackState | undefined> {
    const region = resolveRegion(opts.region);
    const client = opts.client ?? elbv2Client(region);
    const wanted = { [TAG.stack]: opts.stack, [TAG.service]: opts.service };

    const tgs = await listTargetGroups(client);
    const tgTags = await readTags(
        client,
        tgs.map((tg) => tg.TargetGroupArn!),
    );
    const targetGroups: Partial<Record<Color, string>> = {};
    const attachedTo = new Set<string>();
    for (const tg of tgs) {
        const tags = tgTags.get(tg.TargetGroupArn!);
        const color = tags?.[TAG.color];
        if (!hasTags(tags, wanted) || !isColor(color)) continue;
        if (targetGroups[color]) {
            throw new AwsError(
                `two target groups are tagged ${TAG.color}=${color} for stack ${opts.stack} service ${opts.service}: ${targetGroups[color]} and ${tg.TargetGroupArn}`,
                "Ambiguous",
            );
        }
        targetGroups[color] = tg.TargetGroupArn!;
        for (const arn of tg.LoadBalancerArns ?? []) attachedTo.add(arn);
    }

    const lbs = (await listLoadBalancers(client)).filter((lb) => lb.Type === undefined || lb.Type === "application");
    const lb = attachedTo.size > 0 ? attachedLoadBalancer(lbs, attachedTo, opts) : await taggedLoadBalancer(client, lbs, opts);
    if (!lb) return undefined;
    const colorOf = (arn: string | undefined): Color | undefined => COLORS.find((c) => targetGroups[c] === arn);

    const listenerList =
        (
            await awsCall("elasticloadbalancing:DescribeListeners", () =>
                client.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn })),
            )
        ).Listeners ?? [];
    const listenerTags = await readTags(
        client,
        listenerList.map((l) => l.ListenerArn!),
    );
    const listeners: Partial<Record<ListenerRole, ListenerState>> = {};
    for (const l of listenerList) {
        const role = roleOf(l.ListenerArn!, listenerTags, opts.listenerArns);
        if (!role) continue;
        // With HTTPS, port 80 is also a production listener but only redirects: the weights and
        // rules live on the one that forwards.
        const redirectOnly = (l.DefaultActions ?? []).length > 0 && l.DefaultActions!.every((a) => a.Type === "redirect");
        if (role === "production" && redirectOnly) continue;
        const rules = await awsCall("elasticloadbalancing:DescribeRules", () =>
            client.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn })),
        );
        listeners[role] = {
            arn: l.ListenerArn!,
            port: l.Port,
            forward: forwardTargets(l.DefaultActions, colorOf),
            rules: (rules.Rules ?? [])
                .filter((r) => !r.IsDefault && r.Priority !== "default")
                .map((r) => ({ priority: Number(r.Priority), forward: forwardTargets(r.Actions, colorOf) }))
                .sort((a, b) => a.priority - b.priority),
        };
    }

    const health: Partial<Record<Color, TargetHealthSummary>> = {};
    for (const color of COLORS) {
        const arn = targetGroups[color];
        if (arn) health[color] = await readTargetHealth(client, arn);
    }
    return {
        region,
        loadBalancer: { arn: lb.LoadBalancerArn!, name: lb.LoadBalancerName ?? lb.LoadBalancerArn!, dnsName: lb.DNSName },
        targetGroups,
        listeners,
        health,
    };
}

/** The ALB the service's target groups are attached to; more than one is ambiguous. */
function attachedLoadBalancer(
    lbs: readonly LoadBalancer[],
    attachedTo: ReadonlySet<string>,
    opts: FindStackOptions,
): LoadBalancer | undefined {
    if (attachedTo.size > 1) {
        throw new AwsError(
            `the target groups of stack ${opts.stack} service ${opts.service} are attached to ${attachedTo.size} load balancers; expected one: ${[...attachedTo].join(", ")}`,
            "Ambiguous",
        );
    }
    return lbs.find((lb) => attachedTo.has(lb.LoadBalancerArn!));
}

/** The ALB tagged with the service (single-service form), else the one tagged as the stack's edge. */
async function taggedLoadBalancer(
    client: ElasticLoadBalancingV2Client,
    lbs: readonly LoadBalancer[],
    opts: FindStackOptions,
): Promise<LoadBalancer | undefined> {
    const lbTags = await readTags(
        client,
        lbs.map((lb) => lb.LoadBalancerArn!),
    );
    for (const service of [opts.service, EDGE_SERVICE]) {
        const matches = lbs.filter((lb) => hasTags(lbTags.get(lb.LoadBalancerArn!), { [TAG.stack]: opts.stack, [TAG.service]: service }));
        if (matches.length > 1) {
            throw new AwsError(
                `${matches.length} load balancers are tagged ${TAG.stack}=${opts.stack} ${TAG.service}=${service}; expected one: ` +
                    matches.map((lb) => lb.LoadBalancerName).join(", "),
                "Ambiguous",
            );
        }
        if (matches.length === 1) return matches[0];
    }
    return undefined;
}

/** A listener's role: given for an adopted edge's listeners, else its `switchyard:role` tag. */
function roleOf(
    arn: string,
    tags: ReadonlyMap<string, Record<string, string>>,
    given: Partial<Record<ListenerRole, string>> | undefined,
): ListenerRole | undefined {
    if (given?.production === arn) return "production";
    if (given?.test === arn) return "test";
    const role = tags.get(arn)?.[TAG.role];
    return role === "production" || role === "test" ? role : undefined;
}

/** The forward targets of the (last) forward action in a list, with their raw weights. */
export function forwardTargets(
    actions: readonly Action[] | undefined,
    colorOf: (arn: string | undefined) => Color | undefined,
): ForwardTarget[] {
    const forward = [...(actions ?? [])].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0)).find((a) => a.Type === "forward");
    if (!forward) return [];
    const groups = forward.ForwardConfig?.TargetGroups ?? [];
    if (groups.length > 0) {
        return groups.map((g) => ({ targetGroupArn: g.TargetGroupArn!, color: colorOf(g.TargetGroupArn), weight: g.Weight ?? 1 }));
    }
    return forward.TargetGroupArn ? [{ targetGroupArn: forward.TargetGroupArn, color: colorOf(forward.TargetGroupArn), weight: 1 }] : [];
}

/** Every load balancer in the region (the SDK's paginator follows NextMarker). */
async function listLoadBalancers(client: ElasticLoadBalancingV2Client): Promise<LoadBalancer[]> {
    return awsCall("elasticloadbalancing:DescribeLoadBalancers", async () => {
        const all: LoadBalancer[] = [];
        for await (const page of paginateDescribeLoadBalancers({ client, pageSize: 400 }, {})) all.push(...(page.LoadBalancers ?? []));
        return all;
    });
}

/** Every target group in the region: a colour's group is found by its tags even if detached. */
async function listTargetGroups(client: ElasticLoadBalancingV2Client): Promise<TargetGroup[]> {
    return awsCall("elasticloadbalancing:DescribeTargetGroups", async () => {
        const all: TargetGroup[] = [];
        for await (const page of paginateDescribeTargetGroups({ client, pageSize: 400 }, {})) all.push(...(page.TargetGroups ?? []));
        return all;
    });
}

/** DescribeTags in batches of 20 (the API limit); returns tags by ARN. */
async function readTags(client: ElasticLoadBalancingV2Client, arns: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const tags = new Map<string, Record<string, string>>();
    for (let i = 0; i < arns.length; i += 20) {
        const batch = arns.slice(i, i + 20);
        const out = await awsCall("elasticloadbalancing:DescribeTags", () => client.send(new DescribeTagsCommand({ ResourceArns: batch })));
        for (const d of out.TagDescriptions ?? []) {
            tags.set(d.ResourceArn!, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value ?? ""])));
        }
    }
    return tags;
}

function hasTags(tags: Record<string, string> | undefined, wanted: Record<string, string>): boolean {
    return tags !== undefined && Object.entries(wanted).every(([k, v]) => tags[k] === v);
}

function isColor(value: string | undefined): value is Color {
    return (COLORS as readonly string[]).includes(value ?? "");
}
