/**
 * The AWS API requests each registered resource becomes when the Pulumi AWS provider creates it,
 * and the limits the API models state only in their documentation text.
 *
 * The provider turns a resource's inputs into the create call of its API, then any follow-up calls
 * for settings the create call does not take (load balancer and target group attributes, log
 * retention, security group rules): see each resource's page in the provider's docs,
 * https://www.pulumi.com/registry/packages/aws/api-docs/ (built from the Terraform AWS provider,
 * internal/service/<service>/<resource>.go). Auto-named resources get `<logical name>-<7 random
 * characters>` (lib/parse/names.ts); the test uses a suffix of that length.
 */
import type { Recorded } from "../helpers/mocks";
import { AUTO_NAME_SUFFIX_LENGTH } from "../../lib/parse/names";
import { ApiModel, Violation, apiModel, memberDocs } from "./apiModels";

/** A stand-in for the provider's random suffix: 7 lowercase hex characters. */
export const RANDOM_SUFFIX = "1a2b3c4";
if (RANDOM_SUFFIX.length + 1 !== AUTO_NAME_SUFFIX_LENGTH) throw new Error("RANDOM_SUFFIX must match AUTO_NAME_SUFFIX_LENGTH");

export const physicalName = (r: Pick<Recorded, "name">): string => `${r.name}-${RANDOM_SUFFIX}`;

export interface ApiRequest {
    /** botocore's service folder name: elbv2, ecs, ec2, ... */
    readonly service: string;
    readonly operation: string;
    readonly input: Record<string, unknown>;
}

interface Mapping {
    /** Inputs the provider handles itself and sends to no API (e.g. ECS's wait for a steady state). */
    readonly providerOnly?: readonly string[];
    readonly requests: (r: Recorded) => ApiRequest[];
}

type Tags = Record<string, string> | undefined;
const keyValueTags = (tags: Tags) => Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
const lowerKeyValueTags = (tags: Tags) => Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
const json = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));
const compact = <T extends Record<string, unknown>>(o: T): T =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as T;

function listenerActions(actions: any[]): unknown[] {
    return actions.map((a) =>
        compact({
            Type: a.type,
            TargetGroupArn: a.targetGroupArn,
            ForwardConfig: a.forward
                ? {
                      TargetGroups: a.forward.targetGroups.map((t: any) => ({ TargetGroupArn: t.arn, Weight: t.weight })),
                      TargetGroupStickinessConfig: {
                          Enabled: a.forward.stickiness.enabled,
                          DurationSeconds: a.forward.stickiness.duration,
                      },
                  }
                : undefined,
            RedirectConfig: a.redirect
                ? compact({ Protocol: a.redirect.protocol, Port: a.redirect.port, StatusCode: a.redirect.statusCode })
                : undefined,
        }),
    );
}

function ruleConditions(conditions: any[]): unknown[] {
    return conditions.map((c) => {
        if (c.hostHeader) return { Field: "host-header", HostHeaderConfig: { Values: c.hostHeader.values } };
        if (c.httpHeader) {
            return {
                Field: "http-header",
                HttpHeaderConfig: compact({
                    HttpHeaderName: c.httpHeader.httpHeaderName,
                    Values: c.httpHeader.values,
                    RegexValues: c.httpHeader.regexValues,
                }),
            };
        }
        if (c.sourceIp) return { Field: "source-ip", SourceIpConfig: { Values: c.sourceIp.values } };
        if (c.queryStrings) {
            return {
                Field: "query-string",
                QueryStringConfig: { Values: c.queryStrings.map((q: any) => compact({ Key: q.key, Value: q.value })) },
            };
        }
        throw new Error(`a listener rule condition this test does not map: ${JSON.stringify(c)}`);
    });
}

function ipPermissions(rules: any[] | undefined): unknown[] {
    return (rules ?? []).map((rule) =>
        compact({
            IpProtocol: rule.protocol,
            FromPort: rule.fromPort,
            ToPort: rule.toPort,
            IpRanges: (rule.cidrBlocks ?? []).map((CidrIp: string) => compact({ CidrIp, Description: rule.description })),
            Ipv6Ranges: (rule.ipv6CidrBlocks ?? []).map((CidrIpv6: string) => compact({ CidrIpv6, Description: rule.description })),
            UserIdGroupPairs: (rule.securityGroups ?? []).map((GroupId: string) => compact({ GroupId, Description: rule.description })),
        }),
    );
}

/** Every resource type the program registers: the requests it becomes, or none (not an AWS API). */
export const MAPPINGS: Readonly<Record<string, Mapping | "not an AWS request">> = {
    "aws:lb/loadBalancer:LoadBalancer": {
        requests: (r) => [
            {
                service: "elbv2",
                operation: "CreateLoadBalancer",
                input: {
                    Name: physicalName(r),
                    Type: r.inputs.loadBalancerType,
                    Scheme: r.inputs.internal ? "internal" : "internet-facing",
                    Subnets: r.inputs.subnets,
                    SecurityGroups: r.inputs.securityGroups,
                    Tags: keyValueTags(r.inputs.tags),
                },
            },
            {
                service: "elbv2",
                operation: "ModifyLoadBalancerAttributes",
                input: {
                    LoadBalancerArn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${physicalName(r)}/0123456789abcdef`,
                    Attributes: [
                        { Key: "deletion_protection.enabled", Value: String(r.inputs.enableDeletionProtection) },
                        { Key: "routing.http.drop_invalid_header_fields.enabled", Value: String(r.inputs.dropInvalidHeaderFields) },
                    ],
                },
            },
        ],
    },
    "aws:lb/targetGroup:TargetGroup": {
        requests: (r) => {
            const hc = r.inputs.healthCheck;
            return [
                {
                    service: "elbv2",
                    operation: "CreateTargetGroup",
                    input: {
                        Name: physicalName(r),
                        Protocol: r.inputs.protocol,
                        Port: r.inputs.port,
                        VpcId: r.inputs.vpcId,
                        TargetType: r.inputs.targetType,
                        HealthCheckEnabled: hc.enabled,
                        HealthCheckProtocol: hc.protocol,
                        HealthCheckPort: hc.port,
                        HealthCheckPath: hc.path,
                        HealthCheckIntervalSeconds: hc.interval,
                        HealthCheckTimeoutSeconds: hc.timeout,
                        HealthyThresholdCount: hc.healthyThreshold,
                        UnhealthyThresholdCount: hc.unhealthyThreshold,
                        Matcher: { HttpCode: hc.matcher },
                        Tags: keyValueTags(r.inputs.tags),
                    },
                },
                {
                    service: "elbv2",
                    operation: "ModifyTargetGroupAttributes",
                    input: {
                        TargetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${physicalName(r)}/0123456789abcdef`,
                        Attributes: [{ Key: "deregistration_delay.timeout_seconds", Value: String(r.inputs.deregistrationDelay) }],
                    },
                },
            ];
        },
    },
    "aws:lb/listener:Listener": {
        requests: (r) => [
            {
                service: "elbv2",
                operation: "CreateListener",
                input: compact({
                    LoadBalancerArn: r.inputs.loadBalancerArn,
                    Protocol: r.inputs.protocol,
                    Port: r.inputs.port,
                    SslPolicy: r.inputs.sslPolicy,
                    Certificates: r.inputs.certificateArn ? [{ CertificateArn: r.inputs.certificateArn }] : undefined,
                    DefaultActions: listenerActions(r.inputs.defaultActions),
                    Tags: keyValueTags(r.inputs.tags),
                }),
            },
        ],
    },
    "aws:lb/listenerRule:ListenerRule": {
        requests: (r) => [
            {
                service: "elbv2",
                operation: "CreateRule",
                input: {
                    ListenerArn: r.inputs.listenerArn,
                    Priority: r.inputs.priority,
                    Conditions: ruleConditions(r.inputs.conditions),
                    Actions: listenerActions(r.inputs.actions),
                    Tags: keyValueTags(r.inputs.tags),
                },
            },
        ],
    },
    "aws:ec2/securityGroup:SecurityGroup": {
        requests: (r) => {
            const groupId = "sg-0123456789abcdef0";
            return [
                {
                    service: "ec2",
                    operation: "CreateSecurityGroup",
                    input: {
                        GroupName: physicalName(r),
                        Description: r.inputs.description,
                        VpcId: r.inputs.vpcId,
                        TagSpecifications: [{ ResourceType: "security-group", Tags: keyValueTags(r.inputs.tags) }],
                    },
                },
                {
                    service: "ec2",
                    operation: "AuthorizeSecurityGroupIngress",
                    input: { GroupId: groupId, IpPermissions: ipPermissions(r.inputs.ingress) },
                },
                {
                    service: "ec2",
                    operation: "AuthorizeSecurityGroupEgress",
                    input: { GroupId: groupId, IpPermissions: ipPermissions(r.inputs.egress) },
                },
            ];
        },
    },
    "aws:ecs/cluster:Cluster": {
        requests: (r) => [
            {
                service: "ecs",
                operation: "CreateCluster",
                input: { clusterName: physicalName(r), settings: r.inputs.settings, tags: lowerKeyValueTags(r.inputs.tags) },
            },
        ],
    },
    "aws:ecs/taskDefinition:TaskDefinition": {
        requests: (r) => [
            {
                service: "ecs",
                operation: "RegisterTaskDefinition",
                input: {
                    family: r.inputs.family,
                    requiresCompatibilities: r.inputs.requiresCompatibilities,
                    networkMode: r.inputs.networkMode,
                    cpu: r.inputs.cpu,
                    memory: r.inputs.memory,
                    executionRoleArn: r.inputs.executionRoleArn,
                    runtimePlatform: r.inputs.runtimePlatform,
                    containerDefinitions: JSON.parse(r.inputs.containerDefinitions),
                    tags: lowerKeyValueTags(r.inputs.tags),
                },
            },
        ],
    },
    "aws:ecs/service:Service": {
        providerOnly: ["waitForSteadyState"],
        requests: (r) => {
            const i = r.inputs;
            return [
                {
                    service: "ecs",
                    operation: "CreateService",
                    input: {
                        serviceName: physicalName(r),
                        cluster: i.cluster,
                        taskDefinition: i.taskDefinition,
                        desiredCount: i.desiredCount,
                        launchType: i.launchType,
                        networkConfiguration: {
                            awsvpcConfiguration: {
                                subnets: i.networkConfiguration.subnets,
                                securityGroups: i.networkConfiguration.securityGroups,
                                assignPublicIp: i.networkConfiguration.assignPublicIp ? "ENABLED" : "DISABLED",
                            },
                        },
                        loadBalancers: i.loadBalancers,
                        healthCheckGracePeriodSeconds: i.healthCheckGracePeriodSeconds,
                        deploymentConfiguration: {
                            minimumHealthyPercent: i.deploymentMinimumHealthyPercent,
                            maximumPercent: i.deploymentMaximumPercent,
                            deploymentCircuitBreaker: i.deploymentCircuitBreaker,
                        },
                        propagateTags: i.propagateTags,
                        enableECSManagedTags: i.enableEcsManagedTags,
                        tags: lowerKeyValueTags(i.tags),
                    },
                },
            ];
        },
    },
    "aws:cloudwatch/logGroup:LogGroup": {
        requests: (r) => {
            const logGroupName = r.inputs.name ?? physicalName(r);
            return [
                { service: "logs", operation: "CreateLogGroup", input: { logGroupName, tags: r.inputs.tags } },
                { service: "logs", operation: "PutRetentionPolicy", input: { logGroupName, retentionInDays: r.inputs.retentionInDays } },
            ];
        },
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        requests: (r) => {
            const i = r.inputs;
            return [
                {
                    service: "cloudwatch",
                    operation: "PutMetricAlarm",
                    input: compact({
                        AlarmName: i.name,
                        AlarmDescription: i.alarmDescription,
                        ComparisonOperator: i.comparisonOperator,
                        EvaluationPeriods: i.evaluationPeriods,
                        DatapointsToAlarm: i.datapointsToAlarm,
                        MetricName: i.metricName,
                        Namespace: i.namespace,
                        Period: i.period,
                        Statistic: i.statistic,
                        ExtendedStatistic: i.extendedStatistic,
                        Threshold: i.threshold,
                        TreatMissingData: i.treatMissingData,
                        Dimensions: Object.entries(i.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
                        AlarmActions: i.alarmActions,
                        OKActions: i.okActions,
                        Tags: keyValueTags(i.tags),
                    }),
                },
            ];
        },
    },
    "aws:cloudwatch/dashboard:Dashboard": {
        requests: (r) => [
            {
                service: "cloudwatch",
                operation: "PutDashboard",
                input: { DashboardName: r.inputs.dashboardName, DashboardBody: r.inputs.dashboardBody },
            },
        ],
    },
    "aws:ecr/repository:Repository": {
        providerOnly: ["forceDelete"],
        requests: (r) => [
            {
                service: "ecr",
                operation: "CreateRepository",
                input: {
                    repositoryName: physicalName(r),
                    imageTagMutability: r.inputs.imageTagMutability,
                    imageScanningConfiguration: r.inputs.imageScanningConfiguration,
                    tags: keyValueTags(r.inputs.tags),
                },
            },
        ],
    },
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": {
        requests: (r) => [
            {
                service: "ecr",
                operation: "PutLifecyclePolicy",
                input: { repositoryName: `${r.inputs.repository}-${RANDOM_SUFFIX}`, lifecyclePolicyText: r.inputs.policy },
            },
        ],
    },
    "aws:iam/role:Role": {
        requests: (r) => [
            {
                service: "iam",
                operation: "CreateRole",
                input: {
                    RoleName: physicalName(r),
                    AssumeRolePolicyDocument: json(r.inputs.assumeRolePolicy),
                    Description: r.inputs.description,
                    Tags: keyValueTags(r.inputs.tags),
                },
            },
        ],
    },
    "aws:iam/rolePolicy:RolePolicy": {
        requests: (r) => [
            {
                service: "iam",
                operation: "PutRolePolicy",
                // `role` is the role's id, which IAM sets to its name.
                input: {
                    RoleName: physicalName({ name: String(r.inputs.role).replace(/-id$/, "") }),
                    PolicyName: physicalName(r),
                    PolicyDocument: json(r.inputs.policy),
                },
            },
        ],
    },
    "aws:appautoscaling/target:Target": {
        requests: (r) => [
            {
                service: "application-autoscaling",
                operation: "RegisterScalableTarget",
                input: {
                    ServiceNamespace: r.inputs.serviceNamespace,
                    ResourceId: r.inputs.resourceId,
                    ScalableDimension: r.inputs.scalableDimension,
                    MinCapacity: r.inputs.minCapacity,
                    MaxCapacity: r.inputs.maxCapacity,
                },
            },
        ],
    },
    "aws:appautoscaling/policy:Policy": {
        requests: (r) => {
            const t = r.inputs.targetTrackingScalingPolicyConfiguration;
            return [
                {
                    service: "application-autoscaling",
                    operation: "PutScalingPolicy",
                    input: {
                        PolicyName: physicalName(r),
                        ServiceNamespace: r.inputs.serviceNamespace,
                        ResourceId: r.inputs.resourceId,
                        ScalableDimension: r.inputs.scalableDimension,
                        PolicyType: r.inputs.policyType,
                        TargetTrackingScalingPolicyConfiguration: {
                            TargetValue: t.targetValue,
                            PredefinedMetricSpecification: compact({
                                PredefinedMetricType: t.predefinedMetricSpecification.predefinedMetricType,
                                ResourceLabel: t.predefinedMetricSpecification.resourceLabel,
                            }),
                            ScaleInCooldown: t.scaleInCooldown,
                            ScaleOutCooldown: t.scaleOutCooldown,
                        },
                    },
                },
            ];
        },
    },
    "aws:sns/topic:Topic": {
        requests: (r) => [
            { service: "sns", operation: "CreateTopic", input: { Name: physicalName(r), Tags: keyValueTags(r.inputs.tags) } },
        ],
    },
    "aws:sns/topicSubscription:TopicSubscription": {
        requests: (r) => [
            {
                service: "sns",
                operation: "Subscribe",
                input: { TopicArn: r.inputs.topic, Protocol: r.inputs.protocol, Endpoint: r.inputs.endpoint },
            },
        ],
    },
    // Docker builds and pushes with the Docker engine and the registry's API, not an AWS API call.
    "docker:index/image:Image": "not an AWS request",
    // Local to the Pulumi engine.
    "random:index/randomId:RandomId": "not an AWS request",
    // The health gate: it only reads AWS (lib/aws/healthGate.ts, tested against moto).
    "pulumi-nodejs:dynamic:Resource": "not an AWS request",
};

/** The inputs a mapping reads, for the check that a new input cannot go unmapped. */
export function requestsOf(r: Recorded): ApiRequest[] {
    const mapping = MAPPINGS[r.type];
    if (mapping === undefined)
        throw new Error(`${r.type} (${r.name}) has no mapping in test/reality/apiRequests.ts: add the requests it becomes`);
    return mapping === "not an AWS request" ? [] : mapping.requests(r);
}

/**
 * A limit that an API model states in a field's documentation, not in its shape. `quote` must
 * appear in that documentation (the test checks it, so a changed model is noticed), and `check`
 * applies it to a request.
 */
export interface DocumentedRule {
    readonly service: string;
    readonly structure: string;
    readonly member: string;
    readonly quote: string;
    readonly check: (request: ApiRequest) => string[];
}

const SG_CHARACTERS = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
const hostValues = (req: ApiRequest): string[] =>
    ((req.input.Conditions as any[]) ?? []).filter((c) => c.Field === "host-header").flatMap((c) => c.HostHeaderConfig?.Values ?? []);

/** Parses the Fargate table of RegisterTaskDefinition's `memory` documentation: cpu → memory sizes (MiB). */
export function fargateTableFromDocs(model: ApiModel): Map<number, number[]> {
    const text = memberDocs(model, "RegisterTaskDefinitionRequest", "memory");
    const table = new Map<number, number[]>();
    const gib = (n: string, unit: string | undefined) => (unit === undefined ? Number(n) : Number(n) * 1024);
    for (const m of text.matchAll(/(\d[^-]*?) - Available cpu values: (\d+)/g)) {
        const [, sizes, cpu] = m;
        const between =
            /Between (\d+) ?(GB)?(?: \(\d+ GB\))? and (\d+) ?(GB)?(?: \(\d+ GB\))? in (?:increments of (\d+) \(\d+ GB\)|(\d+) GB increments)/.exec(
                sizes,
            );
        if (between) {
            const [, lo, loUnit, hi, hiUnit, stepMiB, stepGiB] = between;
            const step = stepMiB ? Number(stepMiB) : Number(stepGiB) * 1024;
            const values: number[] = [];
            for (let v = gib(lo, loUnit); v <= gib(hi, hiUnit); v += step) values.push(v);
            table.set(Number(cpu), values);
        } else {
            table.set(
                Number(cpu),
                [...sizes.matchAll(/(\d+) \(\d+(?:\.\d+)? GB\)/g)].map((x) => Number(x[1])),
            );
        }
    }
    return table;
}

export const DOCUMENTED_RULES: readonly DocumentedRule[] = [
    {
        service: "elbv2",
        structure: "CreateLoadBalancerInput",
        member: "Name",
        quote: 'can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, must not begin or end with a hyphen, and must not begin with "internal-"',
        check: (req) => {
            if (req.operation !== "CreateLoadBalancer") return [];
            const name = String(req.input.Name);
            return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name) && !name.startsWith("internal-")
                ? []
                : [`Name '${name}' breaks "1-32 alphanumerics or hyphens, not at either end, not starting with internal-"`];
        },
    },
    {
        service: "elbv2",
        structure: "CreateTargetGroupInput",
        member: "Name",
        quote: "can have a maximum of 32 characters, must contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen",
        check: (req) => {
            if (req.operation !== "CreateTargetGroup") return [];
            const name = String(req.input.Name);
            return /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)
                ? []
                : [`Name '${name}' breaks "1-32 alphanumerics or hyphens, not at either end"`];
        },
    },
    {
        service: "ec2",
        structure: "CreateSecurityGroupRequest",
        member: "GroupName",
        quote: "Constraints: Up to 255 characters in length. Can't start with sg- . Valid characters: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*",
        check: (req) => {
            if (req.operation !== "CreateSecurityGroup") return [];
            const name = String(req.input.GroupName);
            return name.length <= 255 && !name.toLowerCase().startsWith("sg-") && SG_CHARACTERS.test(name)
                ? []
                : [`GroupName '${name}' breaks "up to 255 valid characters, not starting with sg-"`];
        },
    },
    {
        service: "ec2",
        structure: "CreateSecurityGroupRequest",
        member: "Description",
        quote: "Constraints: Up to 255 characters in length Valid characters: a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*",
        check: (req) => {
            if (req.operation !== "CreateSecurityGroup") return [];
            const d = String(req.input.Description);
            return d.length <= 255 && SG_CHARACTERS.test(d) ? [] : [`Description '${d}' breaks "up to 255 valid characters"`];
        },
    },
    {
        service: "ec2",
        structure: "IpRange",
        member: "Description",
        quote: "Constraints: Up to 255 characters in length. Allowed characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*",
        check: (req) => {
            if (!req.operation.startsWith("AuthorizeSecurityGroup")) return [];
            const ds = (req.input.IpPermissions as any[]).flatMap((p) =>
                [...(p.IpRanges ?? []), ...(p.Ipv6Ranges ?? []), ...(p.UserIdGroupPairs ?? [])].map((x) => x.Description ?? ""),
            );
            return ds
                .filter((d) => d.length > 255 || !SG_CHARACTERS.test(d))
                .map((d) => `rule Description '${d}' breaks "up to 255 valid characters"`);
        },
    },
    {
        service: "elbv2",
        structure: "RuleCondition",
        member: "Values",
        quote: "A host name is case insensitive, can be up to 128 characters in length, and can contain any of the following characters. A-Z, a-z, 0-9 - . * (matches 0 or more characters) ? (matches exactly 1 character)",
        check: (req) =>
            hostValues(req)
                .filter((h) => !/^[A-Za-z0-9\-.*?]{1,128}$/.test(h))
                .map((h) => `host-header value '${h}' breaks "up to 128 characters of A-Z, a-z, 0-9, - . * ?"`),
    },
    {
        service: "elbv2",
        structure: "HostHeaderConditionConfig",
        member: "Values",
        quote: 'You must include at least one "." character. You can include only alphabetical characters after the final "." character.',
        check: (req) =>
            hostValues(req)
                .filter((h) => !/\.[A-Za-z]+$/.test(h))
                .map((h) => `host-header value '${h}' breaks "a "." and only letters after the last one"`),
    },
    {
        service: "elbv2",
        structure: "HttpHeaderConditionConfig",
        member: "HttpHeaderName",
        quote: "The maximum length is 40 characters.",
        check: (req) =>
            ((req.input.Conditions as any[]) ?? [])
                .filter((c) => c.Field === "http-header" && c.HttpHeaderConfig.HttpHeaderName.length > 40)
                .map((c) => `HttpHeaderName '${c.HttpHeaderConfig.HttpHeaderName}' is longer than 40 characters`),
    },
    {
        service: "elbv2",
        structure: "HttpHeaderConditionConfig",
        member: "Values",
        quote: "The maximum length of each string is 128 characters.",
        check: (req) =>
            ((req.input.Conditions as any[]) ?? [])
                .filter((c) => c.Field === "http-header")
                .flatMap((c) => [...(c.HttpHeaderConfig.Values ?? []), ...(c.HttpHeaderConfig.RegexValues ?? [])])
                .filter((v: string) => v.length > 128)
                .map((v: string) => `http-header value of ${v.length} characters, at most 128`),
    },
    {
        service: "ecs",
        structure: "RegisterTaskDefinitionRequest",
        member: "memory",
        quote: "If using the Fargate launch type, this field is required and you must use one of the following values.",
        check: (req) => {
            if (req.operation !== "RegisterTaskDefinition" || !(req.input.requiresCompatibilities as string[]).includes("FARGATE"))
                return [];
            const table = fargateTableFromDocs(apiModel("ecs"));
            const cpu = Number(req.input.cpu);
            const memory = Number(req.input.memory);
            return table.get(cpu)?.includes(memory) ? [] : [`cpu ${req.input.cpu} with memory ${req.input.memory} is not a Fargate size`];
        },
    },
    {
        service: "logs",
        structure: "PutRetentionPolicyRequest",
        member: "retentionInDays",
        quote: "Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, and 3653.",
        check: (req) => {
            if (req.operation !== "PutRetentionPolicy") return [];
            const allowed = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
            return allowed.includes(Number(req.input.retentionInDays))
                ? []
                : [`retentionInDays ${req.input.retentionInDays} is not one of the possible values`];
        },
    },
];

/** What the documented rules find wrong with a request. */
export function documentedProblems(req: ApiRequest): Violation[] {
    return DOCUMENTED_RULES.filter((rule) => rule.service === req.service).flatMap((rule) =>
        rule.check(req).map((problem) => ({ at: `${req.operation} (${rule.structure}.${rule.member} documentation)`, problem })),
    );
}
