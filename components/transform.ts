import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * A typed escape hatch for one child resource (as SST's `transform`): a partial of its args,
 * merged over switchyard's, or a function that edits the args and options in place. Applied last.
 */
export type Transform<T> = Partial<T> | ((args: T, opts: pulumi.CustomResourceOptions, name: string) => void);

/** One transform per kind of child a service creates. @default none */
export interface ServiceTransforms {
    readonly targetGroup?: Transform<aws.lb.TargetGroupArgs>;
    readonly taskDefinition?: Transform<aws.ecs.TaskDefinitionArgs>;
    readonly service?: Transform<aws.ecs.ServiceArgs>;
    readonly listenerRule?: Transform<aws.lb.ListenerRuleArgs>;
    readonly securityGroup?: Transform<aws.ec2.SecurityGroupArgs>;
    readonly logGroup?: Transform<aws.cloudwatch.LogGroupArgs>;
    readonly executionRole?: Transform<aws.iam.RoleArgs>;
    readonly alarm?: Transform<aws.cloudwatch.MetricAlarmArgs>;
}

/**
 * What a transform may not change, per kind, and why: the invariants rely on these fields.
 * Physical names (`name`, `namePrefix`) stay Pulumi's auto-names everywhere (a fixed name forces
 * delete-before-replace and `ResourceInUse` on listeners; alarm names are what the health gate and
 * rollout read).
 */
export const GUARDED: { readonly [K in keyof ServiceTransforms]-?: Readonly<Record<string, string>> } = {
    targetGroup: {
        port: "the fleet's tasks and health checks listen on service.port",
        protocol: "the listeners forward HTTP to it",
        vpcId: "its tasks run in the stack's VPC",
        targetType: "Fargate tasks register by IP",
        name: "target groups are never replaced by a release (invariant 7); auto-naming keeps that",
        namePrefix: "target groups are never replaced by a release (invariant 7); auto-naming keeps that",
    },
    taskDefinition: { family: "a release replaces only the candidate's task definition (invariant 4)" },
    service: {
        name: "the service is found by its tags and replaced only with its colour",
        cluster: "a service moved to another cluster is replaced, with downtime",
        loadBalancers: "the service must be in its colour's target group for the weights to mean anything",
        desiredCount: "the traffic plan decides the tasks of each colour (invariant 2, 6)",
    },
    listenerRule: {
        priority: "rule priorities follow what a rule matches; a moved priority can collide (PriorityInUse, invariant 14)",
        actions: "the weights and routes are the stack file's (invariant 1)",
        listenerArn: "a rule belongs on its service's listener",
    },
    securityGroup: { name: "auto-named", namePrefix: "auto-named", vpcId: "the group must be in the stack's VPC" },
    logGroup: { name: "auto-named", namePrefix: "auto-named" },
    executionRole: {
        name: "auto-named",
        namePrefix: "auto-named",
        assumeRolePolicy: "only ECS tasks may assume the execution role",
    },
    alarm: { name: "the health gate and rollout read alarms by the exact names monitoring creates (lib/alarms.ts)" },
};

/**
 * Applies `transform` to a copy of `args` and `opts`, and refuses (one error naming the field and
 * why) a change to a field an invariant relies on. Identity is compared, so a value set to itself
 * is no change, and an Output replaced by another is one.
 */
export function transformed<T extends object>(
    kind: keyof ServiceTransforms,
    name: string,
    args: T,
    opts: pulumi.CustomResourceOptions,
    transform: Transform<T> | undefined,
): [T, pulumi.CustomResourceOptions] {
    if (transform === undefined) return [args, opts];
    const nextArgs = { ...args } as T;
    const nextOpts = { ...opts };
    if (typeof transform === "function") transform(nextArgs, nextOpts, name);
    else Object.assign(nextArgs, transform);
    const before = args as Record<string, unknown>;
    const after = nextArgs as Record<string, unknown>;
    const changed = Object.entries(GUARDED[kind]).filter(([field]) => before[field] !== after[field]);
    if (changed.length > 0) {
        throw new pulumi.RunError(
            `transform.${kind} of ${name} changes ${changed.map(([field]) => field).join(", ")}: ` +
                changed.map(([field, why]) => `${field} is switchyard's (${why})`).join("; ") +
                `; remove ${changed.length === 1 ? "it" : "them"} from the transform`,
        );
    }
    if (nextOpts.parent !== opts.parent) {
        throw new pulumi.RunError(`transform.${kind} of ${name} changes its parent: its URN would change and the resource be replaced`);
    }
    return [nextArgs, nextOpts];
}

/** `new Ctor(name, args, opts)` with the kind's transform applied and guarded (see `transformed`). */
export function createWith<A extends object, R>(
    kind: keyof ServiceTransforms,
    transform: Transform<A> | undefined,
    Ctor: new (name: string, args: A, opts?: pulumi.CustomResourceOptions) => R,
    name: string,
    args: A,
    opts: pulumi.CustomResourceOptions,
): R {
    const [finalArgs, finalOpts] = transformed(kind, name, args, opts, transform);
    return new Ctor(name, finalArgs, finalOpts);
}
