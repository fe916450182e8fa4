/**
 * Which IAM actions the stack and the tools need, derived from the code:
 *   - the AWS SDK commands, paginators and waiters imported from `@aws-sdk/client-*` in lib/, cli/
 *     and components/ (the release tool, the health gate's dynamic provider, rollout's analysis,
 *     lock and notifications), each `service:Action` from the client package's IAM prefix;
 *   - the Pulumi resource types the program registers and the provider functions it invokes,
 *     each mapped to the calls its create, read (refresh), update and delete make.
 * A name missing from these tables fails the test that uses them, naming what to add.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");

/** IAM service prefix of each SDK v3 client package (the service authorization reference's prefixes:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html). */
export const IAM_PREFIX: Record<string, string> = {
    "@aws-sdk/client-cloudwatch": "cloudwatch",
    "@aws-sdk/client-cloudwatch-logs": "logs",
    "@aws-sdk/client-dynamodb": "dynamodb",
    "@aws-sdk/client-ec2": "ec2",
    "@aws-sdk/client-ecr": "ecr",
    "@aws-sdk/client-ecs": "ecs",
    "@aws-sdk/client-elastic-load-balancing-v2": "elasticloadbalancing",
    "@aws-sdk/client-iam": "iam",
    "@aws-sdk/client-sns": "sns",
    "@aws-sdk/client-sts": "sts",
    "@aws-sdk/client-application-auto-scaling": "application-autoscaling",
};

/** The operation an SDK waiter polls (its generated source, e.g. @aws-sdk/client-dynamodb/dist-cjs waitForTableExists: DescribeTableCommand). */
export const WAITER_OPERATION: Record<string, string> = {
    waitUntilTableExists: "DescribeTable",
    waitUntilTableNotExists: "DescribeTable",
};

export interface SdkUse {
    readonly file: string;
    readonly name: string;
    /** `prefix:Action`, or undefined when the package or waiter is not in the tables above. */
    readonly action?: string;
    readonly problem?: string;
}

/** Every SDK operation imported by one TypeScript source text. */
export function sdkUses(file: string, text: string): SdkUse[] {
    const uses: SdkUse[] = [];
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"(@aws-sdk\/client-[a-z0-9-]+)"/g)) {
        const pkg = m[2];
        const prefix = IAM_PREFIX[pkg];
        for (const raw of m[1].split(",")) {
            const name = raw
                .trim()
                .replace(/^type\s+/, "")
                .split(/\s+as\s+/)[0];
            const operation =
                /^([A-Z]\w*?)Command$/.exec(name)?.[1] ??
                /^paginate([A-Z]\w*)$/.exec(name)?.[1] ??
                (/^waitUntil/.test(name) ? (WAITER_OPERATION[name] ?? null) : undefined);
            if (operation === undefined) continue; // a client, a type, an exception class
            if (!prefix) uses.push({ file, name, problem: `${pkg} has no IAM prefix in IAM_PREFIX (test/pipeline/awsActions.ts)` });
            else if (operation === null) uses.push({ file, name, problem: `waiter ${name} has no operation in WAITER_OPERATION` });
            else uses.push({ file, name, action: `${prefix}:${operation}` });
        }
    }
    return uses;
}

/** The SDK operations of every .ts file under lib/, cli/ and components/. */
export function sdkUsesInProject(): SdkUse[] {
    return ["lib", "cli", "components"].flatMap((dir) =>
        tsFiles(path.join(ROOT, dir)).flatMap((f) => sdkUses(path.relative(ROOT, f), readFileSync(f, "utf8"))),
    );
}

function tsFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => {
        const p = path.join(dir, f);
        return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
    });
}

/**
 * The calls of each resource type's create, read, update and delete, as the Pulumi AWS provider
 * (the Terraform AWS provider underneath) makes them: hashicorp/terraform-provider-aws,
 * internal/service/<service>/<resource>.go, and its tags_gen.go for tagging. Components and
 * providers make no call; the health gate's dynamic resource calls AWS through lib/aws (counted
 * by the SDK scan above).
 */
export const RESOURCE_ACTIONS: Record<string, readonly string[]> = {
    // internal/service/ecr/repository.go, lifecycle_policy.go
    "aws:ecr/repository:Repository": [
        "ecr:CreateRepository",
        "ecr:DescribeRepositories",
        "ecr:PutImageTagMutability",
        "ecr:PutImageScanningConfiguration",
        "ecr:DeleteRepository",
        "ecr:TagResource",
        "ecr:UntagResource",
        "ecr:ListTagsForResource",
    ],
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ["ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy"],
    // The docker build's push, and its read of the pushed manifest for the digest: "Required IAM
    // permissions for pushing an image", https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html
    // (the token comes from the getAuthorizationToken invoke below).
    "docker:index/image:Image": [
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ],
    "random:index/randomId:RandomId": [],
    // internal/service/ecs/cluster.go; the first cluster creates the AWSServiceRoleForECS
    // service-linked role (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html).
    "aws:ecs/cluster:Cluster": [
        "ecs:CreateCluster",
        "ecs:DescribeClusters",
        "ecs:UpdateCluster",
        "ecs:DeleteCluster",
        "ecs:TagResource",
        "ecs:UntagResource",
        "ecs:ListTagsForResource",
        "iam:CreateServiceLinkedRole",
    ],
    // internal/service/ecs/task_definition.go; passing the execution role to ECS needs iam:PassRole
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).
    "aws:ecs/taskDefinition:TaskDefinition": [
        "ecs:RegisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
        "ecs:DeregisterTaskDefinition",
        "ecs:TagResource",
        "ecs:UntagResource",
        "ecs:ListTagsForResource",
        "iam:PassRole",
    ],
    // internal/service/ecs/service.go (delete scales to 0 with UpdateService first).
    "aws:ecs/service:Service": [
        "ecs:CreateService",
        "ecs:DescribeServices",
        "ecs:UpdateService",
        "ecs:DeleteService",
        "ecs:TagResource",
        "ecs:UntagResource",
        "ecs:ListTagsForResource",
        "iam:CreateServiceLinkedRole",
    ],
    // internal/service/iam/role.go (reads inline and attached policies; delete lists instance profiles), role_policy.go
    "aws:iam/role:Role": [
        "iam:CreateRole",
        "iam:GetRole",
        "iam:UpdateRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:ListRolePolicies",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
    ],
    "aws:iam/rolePolicy:RolePolicy": ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    // internal/service/ec2/vpc_security_group.go: inline ingress/egress rules (the default egress
    // rule is revoked on create), tags, and the wait for network interfaces on delete.
    "aws:ec2/securityGroup:SecurityGroup": [
        "ec2:CreateSecurityGroup",
        "ec2:DescribeSecurityGroups",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
        "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
        "ec2:DeleteSecurityGroup",
        "ec2:CreateTags",
        "ec2:DeleteTags",
        "ec2:DescribeNetworkInterfaces",
    ],
    // internal/service/elbv2/load_balancer.go (attributes, capacity reservation, security groups,
    // subnets; delete waits for the ALB's network interfaces); the first ALB creates the
    // AWSServiceRoleForElasticLoadBalancing role
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html).
    "aws:lb/loadBalancer:LoadBalancer": [
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:DescribeCapacityReservation",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets",
        "elasticloadbalancing:SetIpAddressType",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
        "elasticloadbalancing:DescribeTags",
        "ec2:DescribeNetworkInterfaces",
        "iam:CreateServiceLinkedRole",
    ],
    // internal/service/elbv2/target_group.go
    "aws:lb/targetGroup:TargetGroup": [
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
        "elasticloadbalancing:DescribeTags",
    ],
    // internal/service/elbv2/listener.go (listener attributes since provider 5.x)
    "aws:lb/listener:Listener": [
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
        "elasticloadbalancing:DescribeTags",
    ],
    // internal/service/elbv2/listener_rule.go (a priority change is SetRulePriorities)
    "aws:lb/listenerRule:ListenerRule": [
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:SetRulePriorities",
        "elasticloadbalancing:DeleteRule",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
        "elasticloadbalancing:DescribeTags",
    ],
    // internal/service/logs/group.go
    "aws:cloudwatch/logGroup:LogGroup": [
        "logs:CreateLogGroup",
        "logs:DescribeLogGroups",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:DeleteLogGroup",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:ListTagsForResource",
    ],
    // internal/service/cloudwatch/metric_alarm.go, dashboard.go
    "aws:cloudwatch/metricAlarm:MetricAlarm": [
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
        "cloudwatch:ListTagsForResource",
    ],
    "aws:cloudwatch/dashboard:Dashboard": ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
    // internal/service/sns/topic.go, topic_subscription.go (an email subscription pending
    // confirmation is found with ListSubscriptionsByTopic)
    "aws:sns/topic:Topic": [
        "sns:CreateTopic",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:DeleteTopic",
        "sns:TagResource",
        "sns:UntagResource",
        "sns:ListTagsForResource",
    ],
    "aws:sns/topicSubscription:TopicSubscription": [
        "sns:Subscribe",
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:Unsubscribe",
    ],
    // internal/service/appautoscaling/target.go, policy.go; ECS service auto scaling also needs
    // ecs:DescribeServices, ecs:UpdateService, the CloudWatch alarm calls and the service-linked role
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/auto-scaling-IAM.html).
    "aws:appautoscaling/target:Target": [
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DescribeScalableTargets",
        "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:TagResource",
        "application-autoscaling:UntagResource",
        "application-autoscaling:ListTagsForResource",
        "ecs:DescribeServices",
        "ecs:UpdateService",
        "iam:CreateServiceLinkedRole",
    ],
    "aws:appautoscaling/policy:Policy": [
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DescribeScalingPolicies",
        "application-autoscaling:DeleteScalingPolicy",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
    ],
    "pulumi-nodejs:dynamic:Resource": [],
};

/** The service a type's iam:CreateServiceLinkedRole creates a role for (iam:AWSServiceName). */
export const SERVICE_LINKED_ROLE: Record<string, string> = {
    "aws:ecs/cluster:Cluster": "ecs.amazonaws.com",
    "aws:ecs/service:Service": "ecs.amazonaws.com",
    "aws:lb/loadBalancer:LoadBalancer": "elasticloadbalancing.amazonaws.com",
    "aws:appautoscaling/target:Target": "ecs.application-autoscaling.amazonaws.com",
};

/** The calls of each provider function the program invokes (the tokens lib/program/mocks.ts answers). */
export const INVOKE_ACTIONS: Record<string, readonly string[]> = {
    "aws:ec2/getVpc:getVpc": ["ec2:DescribeVpcs"],
    "aws:ec2/getSubnets:getSubnets": ["ec2:DescribeSubnets"],
    // The region the provider is configured with: no call (internal/service/meta/region_data_source.go).
    "aws:index/getRegion:getRegion": [],
    "aws:index/getCallerIdentity:getCallerIdentity": ["sts:GetCallerIdentity"],
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": ["ecr:GetAuthorizationToken"],
    // An adopted ALB (switchyard:loadBalancer.adopt): internal/service/elbv2/load_balancer_data_source.go
    // reads the load balancer, its attributes and its tags.
    "aws:lb/getLoadBalancer:getLoadBalancer": [
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeTags",
    ],
};

/** Components and providers register no AWS resource of their own. */
export const callsNothing = (type: string): boolean =>
    type.startsWith("switchyard:") || type.startsWith("pulumi:providers:") || type === "pulumi:pulumi:Stack";

/** The provider function tokens lib/program/mocks.ts answers (it throws on any other, so these are all the program can invoke). */
export function mockedInvokes(): string[] {
    const text = readFileSync(path.join(ROOT, "lib", "program", "mocks.ts"), "utf8");
    return [...new Set([...text.matchAll(/case "([a-z]+:[\w/]+:get\w+)"/g)].map((m) => m[1]))].sort();
}
