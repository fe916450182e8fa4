/**
 * Who gets which build, in words: the default action's share per colour, each route's
 * conditions, stickiness and the colour the test listener serves. Pure: from a validated config.
 */
import { Color, Route, SwitchyardConfig } from "../model";
import { describeSlot } from "../release";
import { productionWeights, testListenerTarget } from "../traffic";

export interface ColorShare {
    readonly color: Color;
    readonly percent: number;
    /** `web@sha256:0123456789ab`, `build ./app` or `empty`. */
    readonly build: string;
}

export interface RouteSummary {
    readonly color: Color;
    readonly build: string;
    /** "header x-beta-user is alice or bob and source IP in 203.0.113.0/24". */
    readonly when: string;
}

export interface TrafficSummary {
    readonly live: Color;
    /** Production default action: every colour with a share, live first. */
    readonly default: readonly ColorShare[];
    readonly routes: readonly RouteSummary[];
    /** Seconds a client stays on the colour it got; null without stickiness. */
    readonly stickinessSeconds: number | null;
    /** The colour the test listener serves; null with the rolling strategy. */
    readonly testListener: { readonly color: Color; readonly build: string } | null;
    /** The colour kept warm for rollback since the last flip. */
    readonly previous: Color | null;
}

export function summarizeTraffic(cfg: SwitchyardConfig): TrafficSummary {
    const weights = productionWeights(cfg);
    const live = cfg.traffic.live;
    const colors = [live, ...(Object.keys(weights) as Color[]).filter((c) => c !== live)];
    const test = testListenerTarget(cfg);
    return {
        live,
        default: colors.filter((c) => weights[c] > 0).map((c) => ({ color: c, percent: weights[c], build: describeSlot(cfg.slots[c]) })),
        routes: cfg.traffic.routes.map((r) => ({ color: r.color, build: describeSlot(cfg.slots[r.color]), when: routeWords(r) })),
        stickinessSeconds: cfg.strategy === "blue-green" && cfg.traffic.canary?.stickiness ? cfg.traffic.canary.stickiness : null,
        testListener: test ? { color: test, build: describeSlot(cfg.slots[test]) } : null,
        previous: cfg.traffic.previous ?? null,
    };
}

/** A route's conditions (all must match), each condition's values ORed, as the ALB evaluates them. */
export function routeWords(route: Route): string {
    const parts: string[] = [];
    if (route.header) parts.push(`header ${route.header.name} is ${route.header.values.join(" or ")}`);
    if (route.cookie) parts.push(`cookie ${route.cookie.name} is ${route.cookie.value}`);
    if (route.sourceIps) parts.push(`source IP in ${route.sourceIps.join(" or ")}`);
    if (route.hosts) parts.push(`host is ${route.hosts.join(" or ")}`);
    for (const [key, value] of Object.entries(route.query ?? {})) parts.push(`query ${key}=${value}`);
    return parts.join(" and ");
}

/** The summary as lines of plain text. */
export function trafficLines(t: TrafficSummary): string[] {
    const lines = [`default: ${t.default.map((s) => `${s.percent}% ${s.color} (${s.build})`).join(", ")}`];
    if (t.stickinessSeconds !== null) lines.push(`stickiness: a client stays on its colour for ${t.stickinessSeconds} s`);
    for (const r of t.routes) lines.push(`route: ${r.when} → ${r.color} (${r.build})`);
    lines.push(t.testListener ? `test listener: ${t.testListener.color} (${t.testListener.build})` : "test listener: none (rolling)");
    if (t.previous) lines.push(`kept warm for rollback: ${t.previous}`);
    return lines;
}
