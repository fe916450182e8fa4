/**
 * Physical names. Pulumi's AWS provider names a resource `<logical name>-<7 random characters>`
 * (pulumi-terraform-bridge pkg/tfbridge/names.go `AutoName`: separator "-", Randlen 7; the
 * limits passed to it in pulumi-aws provider/resources.go, e.g. `"name": tfbridge.AutoName("name",
 * 32, "-")` for target groups). Logical names derive from `service.name`, so its maximum length is
 * what keeps the longest auto-generated name within its AWS limit.
 */

/** "-" and 7 random characters. */
export const AUTO_NAME_SUFFIX_LENGTH = 8;

/** The AWS name limit of each auto-named resource type the stack registers, with its source. */
export const AUTO_NAME_LIMITS: Readonly<Record<string, { readonly limit: number; readonly source: string }>> = {
    "aws:lb/loadBalancer:LoadBalancer": {
        limit: 32,
        source: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
    },
    "aws:lb/targetGroup:TargetGroup": {
        limit: 32,
        source: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html",
    },
    "aws:iam/role:Role": { limit: 64, source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html" },
    "aws:iam/rolePolicy:RolePolicy": { limit: 128, source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html" },
    "aws:ec2/securityGroup:SecurityGroup": {
        limit: 255,
        source: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
    },
    "aws:ecs/cluster:Cluster": { limit: 255, source: "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html" },
    "aws:ecs/service:Service": { limit: 255, source: "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html" },
    "aws:cloudwatch/logGroup:LogGroup": {
        limit: 512,
        source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
    },
    "aws:ecr/repository:Repository": {
        limit: 256,
        source: "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html",
    },
    "aws:sns/topic:Topic": { limit: 256, source: "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html" },
    "aws:appautoscaling/policy:Policy": {
        limit: 256,
        source: "https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScalingPolicy.html",
    },
};

/**
 * The longest logical name with a 32-character limit is the green target group,
 * `<service.name>-green-tg` (components/colorFleet.ts): 32 - 8 - 9 leaves 15 characters.
 * test/reality/names.test.ts checks every auto-named resource of every tested stack against
 * AUTO_NAME_LIMITS with a name of this length, so a longer logical name fails there.
 */
export const SERVICE_NAME_MAX_LENGTH = 32 - AUTO_NAME_SUFFIX_LENGTH - "-green-tg".length;

/**
 * Prefixes AWS refuses at the start of a physical name. Every auto-named resource's logical name
 * starts with `<service.name>-` (components/), so its physical name does too, and `service.name`
 * must not make one of these. Both rules are in the request documentation of botocore's API
 * models, which test/reality/apiModels.test.ts reads and applies to every registered resource.
 */
export const RESERVED_NAME_PREFIXES: readonly {
    readonly type: string;
    readonly what: string;
    readonly prefix: string;
    readonly source: string;
}[] = [
    {
        type: "aws:lb/loadBalancer:LoadBalancer",
        what: "load balancer",
        prefix: "internal-",
        // CreateLoadBalancer Name: "must not begin with "internal-"" (elbv2 2015-12-01 service-2.json).
        source: "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
    },
    {
        type: "aws:ec2/securityGroup:SecurityGroup",
        what: "security group",
        prefix: "sg-",
        // CreateSecurityGroup GroupName: "Can't start with sg-" (ec2 2016-11-15 service-2.json).
        source: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
    },
];

/** The reserved prefixes that names starting with `<serviceName>-` would begin with. */
export function reservedPrefixesOf(serviceName: string): typeof RESERVED_NAME_PREFIXES {
    return RESERVED_NAME_PREFIXES.filter((r) => `${serviceName}-`.toLowerCase().startsWith(r.prefix));
}
