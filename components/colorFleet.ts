import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ServiceTransforms, createWith } from "./transform";
import { Autoscaling, Color } from "../lib/config";
import { ecrRepositoryArn } from "../lib/images";
import { colorTags } from "../lib/tags";

/** Where a colour's tasks run. */
export interface FleetNetwork {
    /** VPC of the load balancer and the tasks. */
    readonly vpcId: pulumi.Input<string>;
    /** Subnets the tasks run in. */
    readonly subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** Give tasks a public IP (needed in public subnets without NAT to pull images). */
    readonly assignPublicIp: boolean;
}

export interface ColorFleetArgs {
    /** The colour this fleet serves. */
    readonly color: Color;
    /** Base tags (stack, service); the colour tag is added. */
    readonly tags: Record<string, string>;
    readonly network: FleetNetwork;
    /** The ECS cluster the service runs in. */
    readonly clusterArn: pulumi.Input<string>;
    /** The load balancer's security group: the only source allowed to reach the tasks. */
    readonly loadBalancerSecurityGroupId: pulumi.Input<string>;
    /** Container port. */
    readonly port: number;
    /** Target-group health check path. */
    readonly healthCheckPath: string;
    /** Seconds the ALB drains a deregistering target; at least the server's drain time. */
    readonly deregistrationDelaySeconds: number;
    /**
     * Digest-pinned image. Undefined for an empty slot: the fleet keeps its target group (so
     * listeners never lose it) and has no task definition or service.
     */
    readonly image?: pulumi.Input<string>;
    /** Whether `image` is a private ECR reference known only at deploy time (a build slot). */
    readonly imageRepositoryArn?: pulumi.Input<string>;
    /** Tasks to run. */
    readonly desiredCount: number;
    /** Fargate CPU units. */
    readonly cpu: number;
    /** Fargate memory, MiB. */
    readonly memory: number;
    /** Seconds between SIGTERM and SIGKILL. */
    readonly stopTimeoutSeconds: number;
    readonly deploymentMinimumHealthyPercent: number;
    readonly deploymentMaximumPercent: number;
    /** CloudWatch Logs retention. @default 30 */
    readonly logRetentionDays?: number;
    /** Target tracking on this colour; only for colours with traffic. */
    readonly autoscaling?: Autoscaling;
    /** The load balancer's ARN suffix, for request-count autoscaling. */
    readonly loadBalancerArnSuffix?: pulumi.Input<string>;
    /**
     * Resources the service must wait for: a listener that attaches the target group to the
     * load balancer (ECS refuses a target group that no load balancer uses).
     */
    readonly serviceDependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
    /** Typed escape hatches for the children (components/transform.ts). @default none */
    readonly transform?: ServiceTransforms;
}

/**
 * One colour of the service: its target group (never replaced by a release, flip or rollback),
 * and when its slot is filled, a Fargate task definition and service pinned to a digest.
 */
export class ColorFleet extends pulumi.ComponentResource {
    public readonly targetGroup: aws.lb.TargetGroup;
    public readonly securityGroup: aws.ec2.SecurityGroup;
    public readonly logGroup: aws.cloudwatch.LogGroup;
    public readonly service?: aws.ecs.Service;
    public readonly taskDefinition?: aws.ecs.TaskDefinition;
    /** The Application Auto Scaling target, when the colour autoscales. */
    public scalingTarget?: aws.appautoscaling.Target;

    constructor(name: string, args: ColorFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("switchyard:fleet:ColorFleet", name, {}, opts);
        const tags = colorTags(args.tags, args.color);
        const logRetentionDays = args.logRetentionDays ?? 30;

        this.targetGroup = createWith(
            "targetGroup",
            args.transform?.targetGroup,
            aws.lb.TargetGroup,
            `${name}-tg`,
            {
                targetType: "ip",
                protocol: "HTTP",
                port: args.port,
                vpcId: args.network.vpcId,
                deregistrationDelay: args.deregistrationDelaySeconds,
                healthCheck: {
                    enabled: true,
                    path: args.healthCheckPath,
                    protocol: "HTTP",
                    port: "traffic-port",
                    matcher: "200",
                    interval: 10,
                    timeout: 5,
                    healthyThreshold: 2,
                    unhealthyThreshold: 3,
                },
                tags,
            },
            { parent: this },
        );

        this.securityGroup = createWith(
            "securityGroup",
            args.transform?.securityGroup,
            aws.ec2.SecurityGroup,
            `${name}-tasks`,
            {
                vpcId: args.network.vpcId,
                description: `switchyard ${args.color} tasks: traffic from the load balancer only`,
                ingress: [
                    {
                        protocol: "tcp",
                        fromPort: args.port,
                        toPort: args.port,
                        securityGroups: [args.loadBalancerSecurityGroupId],
                        description: "from the load balancer",
                    },
                ],
                // Outbound: image pulls from ECR, logs, and whatever the server itself calls.
                egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
                tags,
            },
            { parent: this },
        );

        this.logGroup = createWith(
            "logGroup",
            args.transform?.logGroup,
            aws.cloudwatch.LogGroup,
            `${name}-logs`,
            { retentionInDays: logRetentionDays, tags },
            { parent: this },
        );

        if (args.image === undefined) {
            this.registerOutputs({ targetGroupArn: this.targetGroup.arn });
            return;
        }

        const executionRole = createWith(
            "executionRole",
            args.transform?.executionRole,
            aws.iam.Role,
            `${name}-exec`,
            {
                description: `switchyard ${args.color}: pull the image and write logs`,
                assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ecs-tasks.amazonaws.com" }),
                tags,
            },
            { parent: this },
        );
        const repositoryArn = args.imageRepositoryArn ?? pulumi.output(args.image).apply((ref) => ecrRepositoryArn(ref) ?? "");
        new aws.iam.RolePolicy(
            `${name}-exec`,
            {
                role: executionRole.id,
                policy: pulumi.all([repositoryArn, this.logGroup.arn]).apply(([repo, logs]) => JSON.stringify(executionPolicy(repo, logs))),
            },
            { parent: this },
        );

        const region = aws.getRegionOutput({}, { parent: this }).region;
        this.taskDefinition = createWith(
            "taskDefinition",
            args.transform?.taskDefinition,
            aws.ecs.TaskDefinition,
            `${name}-task`,
            {
                family: name,
                requiresCompatibilities: ["FARGATE"],
                networkMode: "awsvpc",
                cpu: String(args.cpu),
                memory: String(args.memory),
                executionRoleArn: executionRole.arn,
                runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
                containerDefinitions: pulumi.jsonStringify([
                    {
                        name: "app",
                        image: args.image,
                        essential: true,
                        portMappings: [{ containerPort: args.port, protocol: "tcp" }],
                        stopTimeout: args.stopTimeoutSeconds,
                        environment: [
                            { name: "PORT", value: String(args.port) },
                            { name: "COLOR", value: args.color },
                            { name: "BUILD_ID", value: args.image },
                        ],
                        logConfiguration: {
                            logDriver: "awslogs",
                            options: {
                                "awslogs-group": this.logGroup.name,
                                "awslogs-region": region,
                                "awslogs-stream-prefix": args.color,
                            },
                        },
                    },
                ]),
                tags,
            },
            { parent: this },
        );

        this.service = createWith(
            "service",
            args.transform?.service,
            aws.ecs.Service,
            `${name}-svc`,
            {
                cluster: args.clusterArn,
                taskDefinition: this.taskDefinition.arn,
                desiredCount: args.desiredCount,
                launchType: "FARGATE",
                networkConfiguration: {
                    subnets: args.network.subnetIds,
                    securityGroups: [this.securityGroup.id],
                    assignPublicIp: args.network.assignPublicIp,
                },
                loadBalancers: [{ targetGroupArn: this.targetGroup.arn, containerName: "app", containerPort: args.port }],
                healthCheckGracePeriodSeconds: 30,
                deploymentMinimumHealthyPercent: args.deploymentMinimumHealthyPercent,
                deploymentMaximumPercent: args.deploymentMaximumPercent,
                deploymentCircuitBreaker: { enable: true, rollback: true },
                // `pulumi up` returns only when the new tasks are running and healthy.
                waitForSteadyState: true,
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
                tags,
            },
            {
                parent: this,
                dependsOn: args.serviceDependsOn,
                // Autoscaling owns the task count of a colour with traffic.
                ignoreChanges: args.autoscaling ? ["desiredCount"] : [],
            },
        );

        if (args.autoscaling) {
            this.addAutoscaling(name, args.autoscaling, args.loadBalancerArnSuffix);
        }

        this.registerOutputs({ targetGroupArn: this.targetGroup.arn, serviceArn: this.service.id });
    }

    private addAutoscaling(name: string, scaling: Autoscaling, loadBalancerArnSuffix?: pulumi.Input<string>): void {
        const service = this.service!;
        const target = (this.scalingTarget = new aws.appautoscaling.Target(
            `${name}-scaling`,
            {
                serviceNamespace: "ecs",
                scalableDimension: "ecs:service:DesiredCount",
                resourceId: pulumi.interpolate`service/${service.cluster.apply(clusterName)}/${service.name}`,
                minCapacity: scaling.min,
                maxCapacity: scaling.max,
            },
            { parent: this },
        ));
        const metric =
            scaling.requestsPerTarget !== undefined
                ? {
                      predefinedMetricType: "ALBRequestCountPerTarget",
                      resourceLabel: pulumi.interpolate`${loadBalancerArnSuffix}/${this.targetGroup.arnSuffix}`,
                  }
                : { predefinedMetricType: "ECSServiceAverageCPUUtilization" };
        new aws.appautoscaling.Policy(
            `${name}-scaling`,
            {
                policyType: "TargetTrackingScaling",
                serviceNamespace: target.serviceNamespace,
                scalableDimension: target.scalableDimension,
                resourceId: target.resourceId,
                targetTrackingScalingPolicyConfiguration: {
                    targetValue: scaling.requestsPerTarget ?? scaling.cpuPercent!,
                    predefinedMetricSpecification: metric,
                    scaleInCooldown: 120,
                    scaleOutCooldown: 30,
                },
            },
            { parent: this },
        );
    }
}

/** The execution role may pull from one repository and write to one log group; nothing else. */
export function executionPolicy(repositoryArn: string, logGroupArn: string): object {
    const statements: object[] = [{ Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroupArn}:*` }];
    if (repositoryArn) {
        statements.push(
            // GetAuthorizationToken has no resource scope in IAM.
            { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
            {
                Effect: "Allow",
                Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                Resource: repositoryArn,
            },
        );
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** `arn:aws:ecs:r:a:cluster/name` → `name` (autoscaling resource ids use the cluster name). */
function clusterName(clusterArn: string): string {
    return clusterArn.split("/").pop() ?? clusterArn;
}
