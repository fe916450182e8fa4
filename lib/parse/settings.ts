/** The smaller sections: network, test access, HTTPS, database, alarms. */
import { AlarmSettings, Environment, NetworkSettings, Strategy } from "../model";
import { Problems } from "../problems";
import { nonPublicRange } from "./addressRanges";
import { CIDR } from "./patterns";

export function parseNetwork(p: Problems, value: unknown): NetworkSettings | undefined {
    const key = "switchyard:network";
    const n = p.object(key, value, ["vpcId", "publicSubnetIds", "privateSubnetIds"]);
    if (!n) return undefined;
    const subnet = { pattern: /^subnet-[0-9a-f]+$/, hint: "must be a subnet id (subnet-...)" };
    const vpcId = p.string(`${key}.vpcId`, n.vpcId, { pattern: /^vpc-[0-9a-f]+$/, hint: "must be a VPC id (vpc-...)" });
    const publicSubnetIds = p.stringList(`${key}.publicSubnetIds`, n.publicSubnetIds, subnet);
    const privateSubnetIds = p.stringList(`${key}.privateSubnetIds`, n.privateSubnetIds, subnet);
    if (n.vpcId === undefined) p.add(`${key}.vpcId is required when ${key} is set (or remove ${key} to use the default VPC)`);
    if (!publicSubnetIds || publicSubnetIds.length < 2) {
        p.add(`${key}.publicSubnetIds needs at least 2 subnets in different availability zones (an ALB requires two)`);
    }
    if (!privateSubnetIds || privateSubnetIds.length < 1) {
        p.add(`${key}.privateSubnetIds needs at least 1 subnet with a route to ECR (NAT gateway or VPC endpoints)`);
    }
    if (!vpcId || !publicSubnetIds || publicSubnetIds.length < 2 || !privateSubnetIds || privateSubnetIds.length < 1) return undefined;
    return { vpcId, publicSubnetIds, privateSubnetIds };
}

export function parseTestAccess(
    p: Problems,
    value: unknown,
    strategy: Strategy,
    environment: Environment,
): { cidrs: readonly string[]; port: number } {
    const key = "switchyard:testAccess";
    const t = p.object(key, value, ["cidrs", "port"]);
    if (strategy === "rolling") {
        if (t)
            p.add(
                `${key} is a blue-green key (the test listener serves the candidate) and cannot be used with switchyard:strategy rolling; remove it`,
            );
        return { cidrs: [], port: 0 };
    }
    const cidrs = p.stringList(`${key}.cidrs`, t?.cidrs, CIDR) ?? [];
    const port = p.int(`${key}.port`, t?.port, { min: 1, max: 65535, default: 9000 });
    if (port === 80 || port === 443) p.add(`${key}.port ${port} is taken by the production listener; pick another (default 9000)`);
    if (environment === "production") {
        if (cidrs.length === 0) {
            p.add(
                `${key}.cidrs must list who may reach the test listener in production: the public address range your office, ` +
                    `VPN or CI runner reaches the internet from (e.g. 203.0.113.0/24)`,
            );
        }
        for (const open of cidrs.filter((c) => /^0\.0\.0\.0\/0$|^::\/0$/.test(c))) {
            p.add(`${key}.cidrs must not contain ${open} in production: the test listener would be open to the internet`);
        }
    }
    return { cidrs, port };
}

/**
 * Warnings (not refusals) about addresses that never reach the internet-facing load balancer
 * (lib/parse/addressRanges.ts says why): `switchyard:testAccess.cidrs` entries, which admit no
 * one to the test listener, and `sourceIps` of `switchyard:traffic.routes`, which match no
 * request. Not refused, so a stack deployed with the old `10.0.0.0/8` default still applies, and
 * a rollback is never blocked by it. index.ts passes them to `pulumi.log.warn` (shown by
 * `pulumi preview`/`up`, and by `plan`, which evaluates index.ts).
 */
export function unreachableAddressWarnings(cfg: {
    readonly strategy: Strategy;
    readonly testAccess: { readonly cidrs: readonly string[] };
    readonly traffic?: { readonly routes: readonly { readonly sourceIps?: readonly string[] }[] };
}): string[] {
    const testers =
        cfg.strategy !== "blue-green"
            ? []
            : cfg.testAccess.cidrs.flatMap((cidr) => {
                  const range = nonPublicRange(cidr);
                  if (range === undefined) return [];
                  return [
                      `switchyard:testAccess.cidrs has ${cidr}, a ${range} range: the load balancer is internet-facing, so every tester ` +
                          `reaches the test listener from a public address (a client in the VPC from its own or its NAT gateway's), and this ` +
                          `entry admits no one; list the public range your office, VPN or CI runner reaches the internet from (e.g. 203.0.113.0/24)`,
                  ];
              });
    const routes = (cfg.traffic?.routes ?? []).flatMap((route, i) =>
        (route.sourceIps ?? []).flatMap((cidr) => {
            const range = nonPublicRange(cidr);
            if (range === undefined) return [];
            return [
                `switchyard:traffic.routes[${i}].sourceIps has ${cidr}, a ${range} range: the load balancer is internet-facing and ` +
                    `sees every client by its public address (a client in the VPC by its own or its NAT gateway's), so this route ` +
                    `matches no request; list the public range of the users it is for (e.g. 203.0.113.0/24)`,
            ];
        }),
    );
    return [...testers, ...routes];
}

export function parseHttps(p: Problems, value: unknown): { certificateArn: string; sslPolicy: string } | undefined {
    const key = "switchyard:https";
    const h = p.object(key, value, ["certificateArn", "sslPolicy"]);
    if (!h) return undefined;
    const certificateArn = p.string(`${key}.certificateArn`, h.certificateArn, {
        pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
        hint: "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
    });
    if (h.certificateArn === undefined) p.add(`${key}.certificateArn is required when ${key} is set`);
    const sslPolicy =
        p.string(`${key}.sslPolicy`, h.sslPolicy, {
            pattern: /^ELBSecurityPolicy-[A-Za-z0-9-]+$/,
            hint: "must be an ELBSecurityPolicy-* name",
        }) ?? "ELBSecurityPolicy-TLS13-1-2-2021-06";
    return certificateArn ? { certificateArn, sslPolicy } : undefined;
}

export function parseDatabase(p: Problems, value: unknown): { schema?: number } | undefined {
    const d = p.object("switchyard:database", value, ["schema"]);
    if (!d) return undefined;
    return { schema: p.int("switchyard:database.schema", d.schema, { min: 0, max: 1000000 }) };
}

export function parseAlarms(p: Problems, value: unknown): AlarmSettings {
    const key = "switchyard:alarms";
    const a =
        p.object(key, value, [
            "http5xxThreshold",
            "unhealthyHostsThreshold",
            "p99LatencySeconds",
            "evaluationPeriods",
            "snsTopicArn",
            "emails",
        ]) ?? {};
    let p99LatencySeconds = 2;
    if (a.p99LatencySeconds !== undefined) {
        const v = Number(a.p99LatencySeconds);
        if (!Number.isFinite(v) || v <= 0 || v > 60)
            p.add(
                `${key}.p99LatencySeconds must be a number of seconds above 0 and at most 60 (got ${JSON.stringify(a.p99LatencySeconds)})`,
            );
        else p99LatencySeconds = v;
    }
    return {
        http5xxThreshold: p.int(`${key}.http5xxThreshold`, a.http5xxThreshold, { min: 1, max: 1000000, default: 10 }),
        unhealthyHostsThreshold: p.int(`${key}.unhealthyHostsThreshold`, a.unhealthyHostsThreshold, { min: 1, max: 1000, default: 1 }),
        p99LatencySeconds,
        evaluationPeriods: p.int(`${key}.evaluationPeriods`, a.evaluationPeriods, { min: 1, max: 100, default: 3 }),
        snsTopicArn: p.string(`${key}.snsTopicArn`, a.snsTopicArn, {
            pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/,
            hint: "must be an SNS topic ARN",
        }),
        emails: p.stringList(`${key}.emails`, a.emails, { pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/, hint: "must be an email address" }) ?? [],
    };
}
