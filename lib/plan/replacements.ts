/**
 * Which input changes make the provider replace a resource instead of updating it in place, for
 * every resource type the stack registers. The Pulumi AWS provider is bridged from the Terraform
 * AWS provider, so a `ForceNew: true` argument in that provider's schema is a replacement in
 * `pulumi up`; each entry cites the schema file it comes from. A type missing here is reported as
 * "replacement unknown", never guessed.
 */

export interface ReplacementRule {
    /** Top-level input properties (Pulumi's camelCase names) whose change forces a replacement. */
    readonly replaceOn: readonly string[];
    /** Where the rule comes from. */
    readonly source: string;
}

const TF = "https://github.com/hashicorp/terraform-provider-aws/blob/main/internal/service";

export const REPLACEMENT_RULES: Readonly<Record<string, ReplacementRule>> = {
    // ForceNew: name, name_prefix, port, protocol, protocol_version, target_type, vpc_id, ip_address_type.
    "aws:lb/targetGroup:TargetGroup": {
        replaceOn: ["name", "namePrefix", "port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType"],
        source: `${TF}/elbv2/target_group.go`,
    },
    // Only load_balancer_arn is ForceNew; port, protocol and default actions update in place.
    "aws:lb/listener:Listener": { replaceOn: ["loadBalancerArn"], source: `${TF}/elbv2/listener.go` },
    // listener_arn is ForceNew; priority is explicitly `ForceNew: false` (SetRulePriorities), conditions and actions update.
    "aws:lb/listenerRule:ListenerRule": { replaceOn: ["listenerArn"], source: `${TF}/elbv2/listener_rule.go` },
    // ForceNew: name, name_prefix, internal, load_balancer_type (subnets only for network load balancers).
    "aws:lb/loadBalancer:LoadBalancer": {
        replaceOn: ["name", "namePrefix", "internal", "loadBalancerType", "customerOwnedIpv4Pool"],
        source: `${TF}/elbv2/load_balancer.go`,
    },
    // resourceServiceUpdate sends everything else (task definition, desired count, load balancers,
    // network configuration, deployment settings) to UpdateService; these are ForceNew.
    "aws:ecs/service:Service": {
        replaceOn: ["name", "cluster", "launchType", "iamRole", "schedulingStrategy", "deploymentController"],
        source: `${TF}/ecs/service.go`,
    },
    // A task definition revision is immutable: every argument except tags is ForceNew (a new revision).
    "aws:ecs/taskDefinition:TaskDefinition": {
        replaceOn: [
            "family",
            "containerDefinitions",
            "cpu",
            "memory",
            "networkMode",
            "requiresCompatibilities",
            "executionRoleArn",
            "taskRoleArn",
            "runtimePlatform",
            "volumes",
            "placementConstraints",
            "ephemeralStorage",
            "pidMode",
            "ipcMode",
            "proxyConfiguration",
        ],
        source: `${TF}/ecs/task_definition.go`,
    },
    "aws:ecs/cluster:Cluster": { replaceOn: ["name"], source: `${TF}/ecs/cluster.go` },
    // ForceNew: name, name_prefix, description, vpc_id; inline ingress/egress rules update in place.
    "aws:ec2/securityGroup:SecurityGroup": {
        replaceOn: ["name", "namePrefix", "description", "vpcId"],
        source: `${TF}/ec2/vpc_security_group.go`,
    },
    "aws:ecr/repository:Repository": { replaceOn: ["name", "encryptionConfigurations"], source: `${TF}/ecr/repository.go` },
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": { replaceOn: ["repository"], source: `${TF}/ecr/lifecycle_policy.go` },
    "aws:iam/role:Role": { replaceOn: ["name", "namePrefix", "path"], source: `${TF}/iam/role.go` },
    "aws:iam/rolePolicy:RolePolicy": { replaceOn: ["name", "namePrefix", "role"], source: `${TF}/iam/role_policy.go` },
    "aws:cloudwatch/logGroup:LogGroup": { replaceOn: ["name", "namePrefix"], source: `${TF}/logs/group.go` },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { replaceOn: ["name"], source: `${TF}/cloudwatch/metric_alarm.go` },
    "aws:cloudwatch/dashboard:Dashboard": { replaceOn: ["dashboardName"], source: `${TF}/cloudwatch/dashboard.go` },
    "aws:sns/topic:Topic": { replaceOn: ["name", "namePrefix", "fifoTopic"], source: `${TF}/sns/topic.go` },
    "aws:sns/topicSubscription:TopicSubscription": {
        replaceOn: ["topic", "protocol", "endpoint"],
        source: `${TF}/sns/topic_subscription.go`,
    },
    "aws:appautoscaling/target:Target": {
        replaceOn: ["resourceId", "scalableDimension", "serviceNamespace"],
        source: `${TF}/appautoscaling/target.go`,
    },
    "aws:appautoscaling/policy:Policy": {
        replaceOn: ["name", "resourceId", "scalableDimension", "serviceNamespace"],
        source: `${TF}/appautoscaling/policy.go`,
    },
    // Every random_id argument has a RequiresReplace plan modifier: a new value is a new resource.
    "random:index/randomId:RandomId": {
        replaceOn: ["byteLength", "keepers", "prefix"],
        source: "https://github.com/hashicorp/terraform-provider-random/blob/main/internal/provider/resource_id.go",
    },
    // Our own dynamic provider: its diff() never asks for a replacement (components/healthGateProvider.ts).
    "pulumi-nodejs:dynamic:Resource": { replaceOn: [], source: "components/healthGateProvider.ts (diff returns no replaces)" },
};

export type ReplacementVerdict =
    | { readonly kind: "update" }
    | { readonly kind: "replace"; readonly because: readonly string[]; readonly source: string }
    | { readonly kind: "unknown" };

/** Whether changing `paths` (e.g. `port`, `healthCheck.path`) replaces a resource of `type`. */
export function replacementFor(type: string, paths: readonly string[]): ReplacementVerdict {
    const rule = REPLACEMENT_RULES[type];
    if (!rule) return { kind: "unknown" };
    const because = paths.filter((p) => rule.replaceOn.includes(topLevel(p)));
    return because.length > 0 ? { kind: "replace", because, source: rule.source } : { kind: "update" };
}

/** `defaultActions[0].forward` → `defaultActions`. */
function topLevel(path: string): string {
    return /^[^.[]+/.exec(path)?.[0] ?? path;
}
