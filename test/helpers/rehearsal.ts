/**
 * The routing rehearsal: applies the operations of one `pulumi up` (test/helpers/engineOrder.ts)
 * on load balancer resources to moto's elbv2, with the calls the Pulumi AWS provider makes, so
 * what AWS refuses in the middle of an update (a priority in use, a target group in use, a port
 * taken) fails a test. moto enforces PriorityInUse in CreateRule and SetRulePriorities, and
 * ResourceInUse in DeleteTargetGroup (moto/elbv2/models.py, create_rule, set_rule_priorities,
 * delete_target_group).
 *
 * The calls per operation, from the provider that @pulumi/aws bridges
 * (hashicorp/terraform-provider-aws, internal/service/elbv2/):
 * - ListenerRule (listener_rule.go): create = CreateRule with the priority; update = when
 *   `priority` changed SetRulePriorities of that one rule (priority is `ForceNew: false`, and
 *   ModifyRule cannot change it), then when actions or conditions changed ModifyRule with those;
 *   delete = DeleteRule.
 * - Listener (listener.go): create = CreateListener; update = ModifyListener with port,
 *   protocol, certificate and ssl policy as set, and the default actions when they changed (a
 *   weighted forward is one default action); delete = DeleteListener.
 * - TargetGroup (target_group.go): create = CreateTargetGroup then ModifyTargetGroupAttributes;
 *   update = ModifyTargetGroup (health check) and ModifyTargetGroupAttributes; delete =
 *   DeleteTargetGroup, which the provider retries for 2 minutes on ResourceInUse; here there is
 *   nothing running alongside to free it, so ResourceInUse is a failure at once.
 * - LoadBalancer: created once on moto's VPC (its subnets and security groups in the program are
 *   the mocks' made-up ids); updates are not rehearsed; a replace or delete fails the rehearsal.
 * Changes of tags alone make no call (AddTags/RemoveTags are not rehearsed). Every other resource
 * type (ECS, IAM, CloudWatch, the health gate, ...) is not rehearsed: moto's ECS would run no
 * tasks, and nothing outside elbv2 can collide with a listener rule.
 *
 * Not rehearsable on moto 5.2.1: a cookie route's `regexValues` (moto's
 * _validate_http_header_condition reads `Values` unconditionally) and HTTPS listeners (need an
 * ACM certificate that no installed client can create).
 */
import {
    Action,
    CreateListenerCommand,
    CreateLoadBalancerCommand,
    CreateRuleCommand,
    CreateTargetGroupCommand,
    DeleteListenerCommand,
    DeleteRuleCommand,
    DeleteTargetGroupCommand,
    DescribeListenersCommand,
    DescribeRulesCommand,
    ElasticLoadBalancingV2Client,
    ModifyListenerCommand,
    ModifyRuleCommand,
    ModifyTargetGroupAttributesCommand,
    ModifyTargetGroupCommand,
    RuleCondition,
    SetRulePrioritiesCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { identifiersOf } from "../../lib/program/mocks";
import { Operation, keyOf } from "./engineOrder";
import { LISTENER, ListenerView, RULE, describeApiActions, describeApiCondition } from "./listenerViews";
import { MOTO_REGION, queryApi, xmlValues } from "./moto";

export const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
export const LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer";
const REHEARSED = [LISTENER, RULE, TARGET_GROUP, LOAD_BALANCER];

/** An AWS error during a rehearsal, naming the operation and the call that failed. */
export class RehearsalError extends Error {
    constructor(
        readonly operation: Operation,
        readonly call: string,
        /** The AWS error code as the SDK names it, e.g. `PriorityInUseException`. */
        readonly code: string,
        awsMessage: string,
    ) {
        super(`${operation.kind} ${operation.name}: ${call} failed with ${code}: ${awsMessage}`);
    }
}

let sequence = 0;

export class Rehearsal {
    /** Every call made, `SetRulePriorities web-route-p20` style, in order. */
    readonly calls: string[] = [];
    private readonly elb = new ElasticLoadBalancingV2Client({});
    /** Logical key → the ARN moto gave it; during a replacement, the new one. */
    private readonly arns = new Map<string, string>();
    /** Logical key → the ARN of the resource a replacement is about to delete. */
    private readonly replaced = new Map<string, string>();
    /** The program's ARN of a resource (the mocks', e.g. `arn:aws:lb:eu-west-1:123456789012:web-blue-tg`) → its key. */
    private readonly keysByMockArn = new Map<string, string>();
    private loadBalancerArn?: string;

    private constructor(
        private readonly vpcId: string,
        private readonly subnetIds: readonly string[],
    ) {}

    /** A fresh VPC with two subnets in two zones on moto (AWS_ENDPOINT_URL points there). */
    static async open(endpoint: string): Promise<Rehearsal> {
        const block = (sequence++ % 200) + 10;
        const vpcXml = await queryApi(endpoint, "ec2", { Action: "CreateVpc", CidrBlock: `10.${block}.0.0/16` });
        const vpcId = xmlValues(vpcXml, "vpcId")[0];
        const subnets: string[] = [];
        for (const [i, zone] of ["a", "b"].entries()) {
            const xml = await queryApi(endpoint, "ec2", {
                Action: "CreateSubnet",
                VpcId: vpcId,
                CidrBlock: `10.${block}.${i}.0/24`,
                AvailabilityZone: `${MOTO_REGION}${zone}`,
            });
            subnets.push(xmlValues(xml, "subnetId")[0]);
        }
        return new Rehearsal(vpcId, subnets);
    }

    /** Applies the operations in the order given; the first AWS error stops it (a RehearsalError). */
    async apply(operations: readonly Operation[]): Promise<void> {
        for (const op of operations) {
            if (REHEARSED.includes(op.type)) await this.applyOne(op);
        }
    }

    /** The listeners of the load balancer as moto holds them now, rules by priority. */
    async observed(): Promise<ListenerView[]> {
        if (!this.loadBalancerArn) return [];
        const { Listeners = [] } = await this.elb.send(new DescribeListenersCommand({ LoadBalancerArn: this.loadBalancerArn }));
        const views: ListenerView[] = [];
        for (const l of Listeners) {
            const { Rules = [] } = await this.elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }));
            const rules = Rules.filter((r) => !r.IsDefault).map((r) => ({
                priority: Number(r.Priority),
                conditions: (r.Conditions ?? []).map(describeApiCondition).sort(),
                action: describeApiActions(r.Actions ?? [], (arn) => this.nameOfArn(arn)),
            }));
            views.push({
                port: l.Port!,
                protocol: l.Protocol!,
                defaultAction: describeApiActions(l.DefaultActions ?? [], (arn) => this.nameOfArn(arn)),
                rules: rules.sort((a, b) => a.priority - b.priority),
            });
        }
        return views.sort((a, b) => a.port - b.port);
    }

    private async applyOne(op: Operation): Promise<void> {
        const key = keyOf(op);
        if (op.kind === "alias") return this.rename(op);
        switch (op.type) {
            case LOAD_BALANCER:
                return this.loadBalancer(op);
            case TARGET_GROUP:
                return this.targetGroup(op, key);
            case LISTENER:
                return this.listener(op, key);
            case RULE:
                return this.rule(op, key);
        }
    }

    private async loadBalancer(op: Operation): Promise<void> {
        if (op.kind === "update") return; // attributes and tags: not rehearsed
        if (op.kind !== "create" || this.loadBalancerArn) {
            throw new Error(`${op.kind} ${op.name}: the rehearsal keeps one load balancer; a release step must not replace or delete it`);
        }
        const out = await this.send(op, "CreateLoadBalancer", () =>
            this.elb.send(
                new CreateLoadBalancerCommand({
                    Name: autoName(op.name),
                    Subnets: [...this.subnetIds],
                    Type: "application",
                    Scheme: op.inputs.internal ? "internal" : "internet-facing",
                }),
            ),
        );
        this.loadBalancerArn = out.LoadBalancers![0].LoadBalancerArn!;
        this.created(op, this.loadBalancerArn);
    }

    private async targetGroup(op: Operation, key: string): Promise<void> {
        const i = op.inputs;
        const hc = i.healthCheck ?? {};
        const healthCheck = {
            HealthCheckEnabled: hc.enabled,
            HealthCheckPath: hc.path,
            HealthCheckPort: hc.port,
            HealthCheckProtocol: hc.protocol,
            HealthCheckIntervalSeconds: hc.interval,
            HealthCheckTimeoutSeconds: hc.timeout,
            HealthyThresholdCount: hc.healthyThreshold,
            UnhealthyThresholdCount: hc.unhealthyThreshold,
            Matcher: hc.matcher ? { HttpCode: hc.matcher } : undefined,
        };
        const attributes = async (arn: string) => {
            if (i.deregistrationDelay === undefined) return;
            await this.send(op, "ModifyTargetGroupAttributes", () =>
                this.elb.send(
                    new ModifyTargetGroupAttributesCommand({
                        TargetGroupArn: arn,
                        Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: String(i.deregistrationDelay) }],
                    }),
                ),
            );
        };
        if (op.kind === "create" || op.kind === "create-replacement") {
            const out = await this.send(op, "CreateTargetGroup", () =>
                this.elb.send(
                    new CreateTargetGroupCommand({
                        Name: autoName(op.name),
                        Port: i.port,
                        Protocol: i.protocol,
                        TargetType: i.targetType,
                        VpcId: this.vpcId,
                        ...healthCheck,
                        Tags: apiTags(i.tags),
                    }),
                ),
            );
            const arn = out.TargetGroups![0].TargetGroupArn!;
            this.created(op, arn);
            return attributes(arn);
        }
        if (op.kind === "update") {
            const arn = this.arnOf(key);
            if (changed(op, "healthCheck")) {
                await this.send(op, "ModifyTargetGroup", () =>
                    this.elb.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, ...healthCheck })),
                );
            }
            if (changed(op, "deregistrationDelay")) await attributes(arn);
            return;
        }
        await this.send(op, "DeleteTargetGroup", () =>
            this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: this.deleted(op, key) })),
        );
    }

    private async listener(op: Operation, key: string): Promise<void> {
        const i = op.inputs;
        const certificates = i.certificateArn ? [{ CertificateArn: this.resolve(i.certificateArn) }] : undefined;
        if (op.kind === "create" || op.kind === "create-replacement") {
            const out = await this.send(op, "CreateListener", () =>
                this.elb.send(
                    new CreateListenerCommand({
                        LoadBalancerArn: this.resolve(i.loadBalancerArn),
                        Port: i.port,
                        Protocol: i.protocol,
                        SslPolicy: i.sslPolicy,
                        Certificates: certificates,
                        DefaultActions: this.actions(i.defaultActions),
                        Tags: apiTags(i.tags),
                    }),
                ),
            );
            return this.created(op, out.Listeners![0].ListenerArn!);
        }
        if (op.kind === "update") {
            if (op.properties.every((p) => p.startsWith("tags"))) return;
            await this.send(op, "ModifyListener", () =>
                this.elb.send(
                    new ModifyListenerCommand({
                        ListenerArn: this.arnOf(key),
                        Port: i.port,
                        Protocol: i.protocol,
                        SslPolicy: i.sslPolicy,
                        Certificates: certificates,
                        DefaultActions: changed(op, "defaultActions") ? this.actions(i.defaultActions) : undefined,
                    }),
                ),
            );
            return;
        }
        await this.send(op, "DeleteListener", () => this.elb.send(new DeleteListenerCommand({ ListenerArn: this.deleted(op, key) })));
    }

    private async rule(op: Operation, key: string): Promise<void> {
        const i = op.inputs;
        if (op.kind === "create" || op.kind === "create-replacement") {
            const out = await this.send(op, "CreateRule", () =>
                this.elb.send(
                    new CreateRuleCommand({
                        ListenerArn: this.resolve(i.listenerArn),
                        Priority: i.priority,
                        Conditions: (i.conditions ?? []).map(apiCondition),
                        Actions: this.actions(i.actions),
                        Tags: apiTags(i.tags),
                    }),
                ),
            );
            return this.created(op, out.Rules![0].RuleArn!);
        }
        if (op.kind === "update") {
            const arn = this.arnOf(key);
            if (changed(op, "priority")) {
                await this.send(op, "SetRulePriorities", () =>
                    this.elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: arn, Priority: i.priority }] })),
                );
            }
            const actions = changed(op, "actions");
            const conditions = changed(op, "conditions");
            if (actions || conditions) {
                await this.send(op, "ModifyRule", () =>
                    this.elb.send(
                        new ModifyRuleCommand({
                            RuleArn: arn,
                            Actions: actions ? this.actions(i.actions) : undefined,
                            Conditions: conditions ? (i.conditions ?? []).map(apiCondition) : undefined,
                        }),
                    ),
                );
            }
            return;
        }
        await this.send(op, "DeleteRule", () => this.elb.send(new DeleteRuleCommand({ RuleArn: this.deleted(op, key) })));
    }

    /** Pulumi's action inputs as the API takes them, ARNs resolved. */
    private actions(actions: readonly any[] | undefined): Action[] {
        return (actions ?? []).map((a, n): Action => {
            const Order = a.order ?? n + 1;
            if (a.type === "forward" && a.forward) {
                const s = a.forward.stickiness;
                return {
                    Type: "forward",
                    Order,
                    ForwardConfig: {
                        TargetGroups: a.forward.targetGroups.map((t: any) => ({ TargetGroupArn: this.resolve(t.arn), Weight: t.weight })),
                        TargetGroupStickinessConfig: s ? { Enabled: s.enabled, DurationSeconds: s.duration } : undefined,
                    },
                };
            }
            if (a.type === "forward") return { Type: "forward", Order, TargetGroupArn: this.resolve(a.targetGroupArn) };
            if (a.type === "redirect") {
                const r = a.redirect;
                return {
                    Type: "redirect",
                    Order,
                    RedirectConfig: {
                        Protocol: r.protocol,
                        Port: r.port,
                        Host: r.host,
                        Path: r.path,
                        Query: r.query,
                        StatusCode: r.statusCode,
                    },
                };
            }
            if (a.type === "fixed-response") {
                const f = a.fixedResponse;
                return {
                    Type: "fixed-response",
                    Order,
                    FixedResponseConfig: { ContentType: f.contentType, MessageBody: f.messageBody, StatusCode: f.statusCode },
                };
            }
            throw new Error(`action type ${a.type} is not rehearsed; add it to test/helpers/rehearsal.ts`);
        });
    }

    /** The real ARN for one of the program's (mock) ARNs; a reference to a resource not created yet fails. */
    private resolve(mockArn: string): string {
        const key = this.keysByMockArn.get(mockArn);
        if (key === undefined || !this.arns.has(key)) throw new Error(`an input refers to ${mockArn}, which the rehearsal has not created`);
        return this.arns.get(key)!;
    }

    private arnOf(key: string): string {
        const arn = this.arns.get(key);
        if (!arn) throw new Error(`${key} has not been created in the rehearsal`);
        return arn;
    }

    private created(op: Operation, arn: string): void {
        const key = keyOf(op);
        if (op.kind === "create-replacement") this.replaced.set(key, this.arnOf(key));
        this.arns.set(key, arn);
        this.keysByMockArn.set(identifiersOf(op)[1], key);
    }

    /** The engine matched an old resource by an alias: the same resource, under its new name. */
    private rename(op: Operation): void {
        const formerKey = keyOf({ type: op.type, name: op.formerName! });
        this.arns.set(keyOf(op), this.arnOf(formerKey));
        this.arns.delete(formerKey);
        for (const [mockArn, k] of this.keysByMockArn) if (k === formerKey) this.keysByMockArn.delete(mockArn);
        this.keysByMockArn.set(identifiersOf(op)[1], keyOf(op));
    }

    /** The ARN a delete removes (the old one of a replacement), forgotten from here on. */
    private deleted(op: Operation, key: string): string {
        if (op.kind === "delete-replaced") {
            const arn = this.replaced.get(key);
            if (!arn) throw new Error(`${key}: no replaced resource to delete`);
            this.replaced.delete(key);
            return arn;
        }
        const arn = this.arnOf(key);
        this.arns.delete(key);
        return arn;
    }

    private nameOfArn(arn: string): string {
        for (const [key, a] of this.arns) if (a === arn) return key.split("::")[1];
        for (const [key, a] of this.replaced) if (a === arn) return `${key.split("::")[1]} (replaced)`;
        return `unknown ${arn}`;
    }

    private async send<T>(op: Operation, call: string, request: () => Promise<T>): Promise<T> {
        this.calls.push(`${call} ${op.name}`);
        try {
            return await request();
        } catch (e) {
            const err = e as Error;
            throw new RehearsalError(op, call, err.name, err.message);
        }
    }
}

/** One of Pulumi's rule conditions as the API takes it (the provider's expandRuleConditions). */
function apiCondition(c: any): RuleCondition {
    if (c.httpHeader) {
        if (c.httpHeader.regexValues) {
            throw new Error("a cookie route (regexValues) is not rehearsable on moto 5.2.1, which reads Values unconditionally");
        }
        return { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: c.httpHeader.httpHeaderName, Values: c.httpHeader.values } };
    }
    if (c.sourceIp) return { Field: "source-ip", SourceIpConfig: { Values: c.sourceIp.values } };
    if (c.hostHeader) return { Field: "host-header", HostHeaderConfig: { Values: c.hostHeader.values } };
    if (c.pathPattern) return { Field: "path-pattern", PathPatternConfig: { Values: c.pathPattern.values } };
    if (c.queryStrings) {
        return { Field: "query-string", QueryStringConfig: { Values: c.queryStrings.map((q: any) => ({ Key: q.key, Value: q.value })) } };
    }
    throw new Error(`condition ${JSON.stringify(c)} is not rehearsed; add it to test/helpers/rehearsal.ts`);
}

const changed = (op: Operation, property: string) =>
    op.properties.some((p) => p === property || p.startsWith(`${property}.`) || p.startsWith(`${property}[`));

const apiTags = (tags: Record<string, string> | undefined) => Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));

/** The provider's auto-name: the logical name, `-` and 7 random characters (fits 32 for these names). */
function autoName(name: string): string {
    return `${name}-${Math.random().toString(16).slice(2, 9).padEnd(7, "0")}`;
}
