/**
 * Listeners and their rules in words a failing assertion shows plainly, read two ways: from what
 * the program registered (Pulumi's input shapes, test/helpers/program.ts) and from what moto holds
 * (the elbv2 API shapes, test/helpers/rehearsal.ts). Target groups are named by logical name.
 */
import { Action, RuleCondition } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Recorded, identifiersOf } from "../../lib/program/mocks";

export const LISTENER = "aws:lb/listener:Listener";
export const RULE = "aws:lb/listenerRule:ListenerRule";

/** What one listener does, in words a failing assertion shows plainly. */
export interface ListenerView {
    readonly port: number;
    readonly protocol: string;
    /** `forward web-blue-tg=100 web-green-tg=0 stickiness=off`, `forward web-green-tg`, `redirect HTTPS:443 HTTP_301`. */
    readonly defaultAction: string;
    readonly rules: readonly RuleView[];
}

export interface RuleView {
    readonly priority: number;
    /** `http-header x-beta=a|b`, `source-ip 203.0.113.0/24`, `host-header a.example.com`, `query-string k=v`; sorted. */
    readonly conditions: readonly string[];
    readonly action: string;
}

/** What the program registered for the load balancer's listeners, in the shape `observed` reads from moto. */
export function expectedListeners(resources: readonly Recorded[]): ListenerView[] {
    const names = new Map(resources.map((r) => [identifiersOf(r)[1], r.name]));
    const nameOf = (arn: string) => names.get(arn) ?? `unknown ${arn}`;
    const listeners = resources.filter((r) => r.type === LISTENER);
    const rules = resources.filter((r) => r.type === RULE);
    return listeners
        .map((l) => ({
            port: l.inputs.port,
            protocol: l.inputs.protocol,
            defaultAction: describeInputActions(l.inputs.defaultActions, nameOf),
            rules: rules
                .filter((r) => r.inputs.listenerArn === identifiersOf(l)[1])
                .map((r) => ({
                    priority: r.inputs.priority,
                    conditions: r.inputs.conditions.map(describeInputCondition).sort(),
                    action: describeInputActions(r.inputs.actions, nameOf),
                }))
                .sort((a, b) => a.priority - b.priority),
        }))
        .sort((a, b) => a.port - b.port);
}

function describeInputActions(actions: readonly any[], nameOf: (arn: string) => string): string {
    return actions
        .map((a) => {
            if (a.type === "forward" && a.forward) {
                const groups = a.forward.targetGroups.map((t: any) => `${nameOf(t.arn)}=${t.weight}`).sort();
                const s = a.forward.stickiness;
                return `forward ${groups.join(" ")} stickiness=${s?.enabled ? s.duration : "off"}`;
            }
            if (a.type === "forward") return `forward ${nameOf(a.targetGroupArn)}`;
            if (a.type === "redirect") return `redirect ${a.redirect.protocol}:${a.redirect.port} ${a.redirect.statusCode}`;
            return a.type;
        })
        .join("; ");
}

export function describeApiActions(actions: readonly Action[], nameOf: (arn: string) => string): string {
    return [...actions]
        .sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0))
        .map((a) => {
            if (a.Type === "forward" && a.TargetGroupArn) return `forward ${nameOf(a.TargetGroupArn)}`;
            if (a.Type === "forward") {
                const groups = (a.ForwardConfig?.TargetGroups ?? []).map((t) => `${nameOf(t.TargetGroupArn!)}=${t.Weight}`).sort();
                const s = a.ForwardConfig?.TargetGroupStickinessConfig;
                return `forward ${groups.join(" ")} stickiness=${s?.Enabled ? s.DurationSeconds : "off"}`;
            }
            if (a.Type === "redirect")
                return `redirect ${a.RedirectConfig?.Protocol}:${a.RedirectConfig?.Port} ${a.RedirectConfig?.StatusCode}`;
            return a.Type ?? "?";
        })
        .join("; ");
}

function describeInputCondition(c: any): string {
    if (c.httpHeader) return `http-header ${c.httpHeader.httpHeaderName}=${[...(c.httpHeader.values ?? [])].sort().join("|")}`;
    if (c.sourceIp) return `source-ip ${[...c.sourceIp.values].sort().join("|")}`;
    if (c.hostHeader) return `host-header ${[...c.hostHeader.values].sort().join("|")}`;
    if (c.pathPattern) return `path-pattern ${[...c.pathPattern.values].sort().join("|")}`;
    if (c.queryStrings)
        return `query-string ${c.queryStrings
            .map((q: any) => `${q.key}=${q.value}`)
            .sort()
            .join("|")}`;
    return JSON.stringify(c);
}

export function describeApiCondition(c: RuleCondition): string {
    if (c.Field === "http-header")
        return `http-header ${c.HttpHeaderConfig?.HttpHeaderName}=${[...(c.HttpHeaderConfig?.Values ?? [])].sort().join("|")}`;
    if (c.Field === "source-ip") return `source-ip ${[...(c.SourceIpConfig?.Values ?? [])].sort().join("|")}`;
    if (c.Field === "host-header") return `host-header ${[...(c.HostHeaderConfig?.Values ?? [])].sort().join("|")}`;
    if (c.Field === "path-pattern") return `path-pattern ${[...(c.PathPatternConfig?.Values ?? [])].sort().join("|")}`;
    if (c.Field === "query-string") {
        return `query-string ${(c.QueryStringConfig?.Values ?? [])
            .map((q) => `${q.Key}=${q.Value}`)
            .sort()
            .join("|")}`;
    }
    return JSON.stringify(c);
}
