/**
 * Seeds moto with what `pulumi up` leaves in AWS for one service (seedServices: several on one edge): a VPC with two subnets, an
 * internet-facing ALB, a blue and a green target group, a production listener with a weighted
 * forward, a test listener, optional route rules, and the switchyard:* tags.
 *
 * Target health in moto (moto/elbv2/models.py, FakeTargetGroup.health_for): every registered
 * target is `healthy`, except an EC2 instance that is stopped, which is `unused` with reason
 * `Target.InvalidState`. So "unhealthy" targets here are registered instances that were then
 * stopped; moto cannot produce `unhealthy`, `initial` or `draining` for a registered target.
 */
import {
    Action,
    AddTagsCommand,
    CreateListenerCommand,
    CreateLoadBalancerCommand,
    CreateRuleCommand,
    CreateTargetGroupCommand,
    ElasticLoadBalancingV2Client,
    RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { Color } from "../../lib/config";
import { MOTO_REGION, queryApi, xmlValues } from "../helpers/moto";

export interface SeedOptions {
    readonly stack: string;
    readonly service?: string;
    /** Raw ALB weights of the production listener's default forward. */
    readonly weights: Readonly<Record<Color, number>>;
    /** Colour the test listener forwards to; none = no test listener. */
    readonly testTo?: Color;
    /** Running instances registered per colour, and how many of them are then stopped. */
    readonly targets?: Partial<Record<Color, { readonly running: number; readonly stopped?: number }>>;
    /** Also a listener tagged production that only redirects to HTTPS (as with switchyard:https). */
    readonly redirectListener?: boolean;
    /** Production listener rules: a header match forwarding to a colour. */
    readonly rules?: readonly { readonly color: Color; readonly priority: number }[];
}

export interface Seeded {
    readonly loadBalancerArn: string;
    readonly targetGroups: Readonly<Record<Color, string>>;
    readonly productionListenerArn: string;
    readonly testListenerArn: string | undefined;
    readonly instances: Readonly<Record<Color, readonly string[]>>;
}

export async function seedStack(endpoint: string, opts: SeedOptions): Promise<Seeded> {
    const service = opts.service ?? "web";
    const elb = new ElasticLoadBalancingV2Client({});
    const { vpcId, subnets } = await network(endpoint);
    const common = [
        { Key: "switchyard:stack", Value: opts.stack },
        { Key: "switchyard:service", Value: service },
    ];
    const lb = await elb.send(
        new CreateLoadBalancerCommand({ Name: `${service}-alb`, Subnets: subnets, Type: "application", Tags: common }),
    );
    const loadBalancerArn = lb.LoadBalancers![0].LoadBalancerArn!;

    const targetGroups = {} as Record<Color, string>;
    const instances: Record<Color, string[]> = { blue: [], green: [] };
    for (const color of ["blue", "green"] as const) {
        const tg = await elb.send(
            new CreateTargetGroupCommand({
                Name: `${service}-${color}-tg`,
                Protocol: "HTTP",
                Port: 8080,
                VpcId: vpcId,
                TargetType: "instance",
                HealthCheckPath: "/healthz",
                Tags: [...common, { Key: "switchyard:color", Value: color }],
            }),
        );
        targetGroups[color] = tg.TargetGroups![0].TargetGroupArn!;
        const t = opts.targets?.[color];
        if (t && t.running > 0) {
            instances[color] = await runInstances(endpoint, subnets[0], t.running);
            await elb.send(
                new RegisterTargetsCommand({
                    TargetGroupArn: targetGroups[color],
                    Targets: instances[color].map((Id) => ({ Id, Port: 8080 })),
                }),
            );
            if (t.stopped) await stopInstances(endpoint, instances[color].slice(0, t.stopped));
        }
    }

    const prod = await elb.send(
        new CreateListenerCommand({
            LoadBalancerArn: loadBalancerArn,
            Protocol: "HTTP",
            Port: 80,
            DefaultActions: [
                {
                    Type: "forward",
                    ForwardConfig: {
                        TargetGroups: (["blue", "green"] as const).map((c) => ({
                            TargetGroupArn: targetGroups[c],
                            Weight: opts.weights[c],
                        })),
                    },
                },
            ],
        }),
    );
    const productionListenerArn = prod.Listeners![0].ListenerArn!;
    await elb.send(
        new AddTagsCommand({ ResourceArns: [productionListenerArn], Tags: [...common, { Key: "switchyard:role", Value: "production" }] }),
    );
    if (opts.redirectListener) {
        const redirect = await elb.send(
            new CreateListenerCommand({
                LoadBalancerArn: loadBalancerArn,
                Protocol: "HTTP",
                Port: 81,
                DefaultActions: [{ Type: "redirect", RedirectConfig: { Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301" } }],
            }),
        );
        await elb.send(
            new AddTagsCommand({
                ResourceArns: [redirect.Listeners![0].ListenerArn!],
                Tags: [...common, { Key: "switchyard:role", Value: "production" }],
            }),
        );
    }

    let testListenerArn: string | undefined;
    if (opts.testTo) {
        const test = await elb.send(
            new CreateListenerCommand({
                LoadBalancerArn: loadBalancerArn,
                Protocol: "HTTP",
                Port: 9000,
                DefaultActions: [{ Type: "forward", TargetGroupArn: targetGroups[opts.testTo] }],
            }),
        );
        testListenerArn = test.Listeners![0].ListenerArn!;
        await elb.send(
            new AddTagsCommand({ ResourceArns: [testListenerArn], Tags: [...common, { Key: "switchyard:role", Value: "test" }] }),
        );
    }

    for (const rule of opts.rules ?? []) {
        await elb.send(
            new CreateRuleCommand({
                ListenerArn: productionListenerArn,
                Priority: rule.priority,
                Conditions: [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "x-beta-user", Values: ["alice"] } }],
                Actions: [{ Type: "forward", TargetGroupArn: targetGroups[rule.color] }],
            }),
        );
    }
    return { loadBalancerArn, targetGroups, productionListenerArn, testListenerArn, instances };
}

/** One service on the shared edge of a `switchyard:services` stack. */
export interface SeedService {
    readonly name: string;
    /** Raw ALB weights of its weighted forward (the default action for the default service). */
    readonly weights: Readonly<Record<Color, number>>;
    /** The colour its test rule (or the test listener's default action) forwards to. */
    readonly testTo: Color;
    /** Absent: the default service (the listeners' default actions). Else the path its rules match. */
    readonly match?: { readonly path: string; readonly priority: number };
    readonly targets?: Partial<Record<Color, { readonly running: number }>>;
    /** Route rules: a header match to a colour at this priority (absolute, as lib/ruleLayout.ts places it). */
    readonly rules?: readonly { readonly color: Color; readonly priority: number }[];
}

export interface SeededServices {
    readonly loadBalancerArn: string;
    readonly productionListenerArn: string;
    readonly testListenerArn: string;
    readonly targetGroups: Readonly<Record<string, Readonly<Record<Color, string>>>>;
}

/**
 * What `pulumi up` leaves for a stack of several services on one edge (program.ts, lib/ruleLayout.ts):
 * the ALB and both listeners tagged `switchyard:service=edge`; each service's target groups tagged
 * with its name; the default service's weights and candidate in the listeners' default actions;
 * every other service's weighted forward at match.priority + 99 and its test rule at match.priority.
 */
export async function seedServices(endpoint: string, opts: { stack: string; services: readonly SeedService[] }): Promise<SeededServices> {
    const elb = new ElasticLoadBalancingV2Client({});
    const { vpcId, subnets } = await network(endpoint);
    const tags = (service: string) => [
        { Key: "switchyard:stack", Value: opts.stack },
        { Key: "switchyard:service", Value: service },
    ];
    const lb = await elb.send(
        new CreateLoadBalancerCommand({ Name: "edge-alb", Subnets: subnets, Type: "application", Tags: tags("edge") }),
    );
    const loadBalancerArn = lb.LoadBalancers![0].LoadBalancerArn!;
    const targetGroups: Record<string, Record<Color, string>> = {};
    for (const service of opts.services) {
        targetGroups[service.name] = {} as Record<Color, string>;
        for (const color of ["blue", "green"] as const) {
            const tg = await elb.send(
                new CreateTargetGroupCommand({
                    Name: `${service.name}-${color}-tg`,
                    Protocol: "HTTP",
                    Port: 8080,
                    VpcId: vpcId,
                    TargetType: "instance",
                    Tags: [...tags(service.name), { Key: "switchyard:color", Value: color }],
                }),
            );
            const arn = tg.TargetGroups![0].TargetGroupArn!;
            targetGroups[service.name][color] = arn;
            const running = service.targets?.[color]?.running ?? 0;
            if (running > 0) {
                const ids = await runInstances(endpoint, subnets[0], running);
                await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: ids.map((Id) => ({ Id, Port: 8080 })) }));
            }
        }
    }
    const weighted = (service: SeedService) => ({
        Type: "forward" as const,
        ForwardConfig: {
            TargetGroups: (["blue", "green"] as const).map((c) => ({
                TargetGroupArn: targetGroups[service.name][c],
                Weight: service.weights[c],
            })),
        },
    });
    const candidate = (service: SeedService) => ({ Type: "forward" as const, TargetGroupArn: targetGroups[service.name][service.testTo] });
    const fixed404 = { Type: "fixed-response" as const, FixedResponseConfig: { StatusCode: "404" } };
    const byDefault = opts.services.find((s) => !s.match);
    const listener = async (port: number, action: Action, role: string) => {
        const out = await elb.send(
            new CreateListenerCommand({ LoadBalancerArn: loadBalancerArn, Protocol: "HTTP", Port: port, DefaultActions: [action] }),
        );
        const arn = out.Listeners![0].ListenerArn!;
        await elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: [...tags("edge"), { Key: "switchyard:role", Value: role }] }));
        return arn;
    };
    const productionListenerArn = await listener(80, byDefault ? weighted(byDefault) : fixed404, "production");
    const testListenerArn = await listener(9000, byDefault ? candidate(byDefault) : fixed404, "test");
    for (const service of opts.services) {
        const path = service.match ? [{ Field: "path-pattern", PathPatternConfig: { Values: [service.match.path] } }] : [];
        for (const rule of service.rules ?? []) {
            await elb.send(
                new CreateRuleCommand({
                    ListenerArn: productionListenerArn,
                    Priority: rule.priority,
                    Conditions: [...path, { Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "x-beta-user", Values: ["alice"] } }],
                    Actions: [{ Type: "forward", TargetGroupArn: targetGroups[service.name][rule.color] }],
                }),
            );
        }
        if (!service.match) continue;
        await elb.send(
            new CreateRuleCommand({
                ListenerArn: productionListenerArn,
                Priority: service.match.priority + 99,
                Conditions: path,
                Actions: [weighted(service)],
            }),
        );
        await elb.send(
            new CreateRuleCommand({
                ListenerArn: testListenerArn,
                Priority: service.match.priority,
                Conditions: path,
                Actions: [candidate(service)],
            }),
        );
    }
    return { loadBalancerArn, productionListenerArn, testListenerArn, targetGroups };
}

async function network(endpoint: string): Promise<{ vpcId: string; subnets: string[] }> {
    const vpcId = xmlValues(await queryApi(endpoint, "ec2", { Action: "CreateVpc", CidrBlock: "10.0.0.0/16" }), "vpcId")[0];
    const subnets: string[] = [];
    for (const [i, az] of ["a", "b"].entries()) {
        const xml = await queryApi(endpoint, "ec2", {
            Action: "CreateSubnet",
            VpcId: vpcId,
            CidrBlock: `10.0.${i}.0/24`,
            AvailabilityZone: `${MOTO_REGION}${az}`,
        });
        subnets.push(xmlValues(xml, "subnetId")[0]);
    }
    return { vpcId, subnets };
}

export async function runInstances(endpoint: string, subnetId: string, count: number): Promise<string[]> {
    const xml = await queryApi(endpoint, "ec2", {
        Action: "RunInstances",
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
        MinCount: String(count),
        MaxCount: String(count),
        SubnetId: subnetId,
    });
    return xmlValues(xml, "instanceId");
}

export async function stopInstances(endpoint: string, ids: readonly string[]): Promise<void> {
    await queryApi(endpoint, "ec2", { Action: "StopInstances", ...Object.fromEntries(ids.map((id, i) => [`InstanceId.${i + 1}`, id])) });
}

export async function startInstances(endpoint: string, ids: readonly string[]): Promise<void> {
    await queryApi(endpoint, "ec2", { Action: "StartInstances", ...Object.fromEntries(ids.map((id, i) => [`InstanceId.${i + 1}`, id])) });
}

export const DIGEST = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${"a".repeat(64)}`;

const stackDirs: string[] = [];

/** Deletes the directories writeStackFile made. */
export function removeStackFiles(): void {
    for (const dir of stackDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes `Pulumi.<stack>.yaml` with the given switchyard:* keys into a fresh temporary directory. */
export function writeStackFile(
    stack: string,
    switchyard: Record<string, unknown>,
    extra: Record<string, unknown> = { "aws:region": MOTO_REGION },
): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-verify-"));
    stackDirs.push(dir);
    const config: Record<string, unknown> = { ...extra };
    for (const [k, v] of Object.entries(switchyard)) config[`switchyard:${k}`] = v;
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify({ config }));
    return dir;
}
