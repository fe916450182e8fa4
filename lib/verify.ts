/**
 * Drift and health verification: compares what AWS holds (read by lib/aws/inspect.ts) with what
 * the stack file says (lib/traffic.ts). Pure: rows for a table, the problems found, an ok flag.
 */
import { COLORS, Color, SwitchyardConfig } from "./config";
import type { ForwardTarget, ListenerState, StackState } from "./aws/inspect";
import { PlannedRule, RULE_BLOCK, ruleLayout } from "./ruleLayout";
import { StackSpec } from "./stackSpec";
import { colorsWithTraffic, fleetColors, productionWeights, testListenerTarget } from "./traffic";
import { renderTable } from "./table";

export interface VerifyRow {
    readonly color: Color;
    readonly expectedWeight: number;
    /** Share of the production default action, in percent; undefined without a production listener. */
    readonly actualWeight: number | undefined;
    readonly healthy: number | undefined;
    /** service.minHealthyTargets for a colour with traffic; undefined otherwise. */
    readonly required: number | undefined;
    readonly testExpected: boolean;
    readonly testActual: boolean;
}

export interface VerifyReport {
    readonly rows: readonly VerifyRow[];
    /** Each a reason for a non-zero exit. */
    readonly problems: readonly string[];
    /** The routing in AWS (weights, listener rules, test listener) differs from what the stack file says. */
    readonly drifted: boolean;
    /** Informational lines (rules checked, listener ports). */
    readonly notes: readonly string[];
    readonly ok: boolean;
}

export const DRIFT_HINT = "someone changed the listener outside Pulumi; run pulumi up to restore it, or update the stack file";

/**
 * How a difference between AWS and the stack file is explained. Only the file's history can tell
 * an edit not applied yet from a change made outside Pulumi (cli/verify.ts reads it from git).
 */
export interface DriftReading {
    /** `production weights <verb>: …` */
    readonly verb: string;
    readonly hint: string;
}

/** AWS matches no version of the stack file its history holds. */
export const OUTSIDE_PULUMI: DriftReading = { verb: "drifted", hint: DRIFT_HINT };

/** The file's history cannot be read (not in git): either explanation may hold. */
export const CAUSE_UNKNOWN: DriftReading = {
    verb: "differ",
    hint:
        "either the stack file was edited and not applied yet (pulumi up applies it) or someone changed the listener " +
        "outside Pulumi (pulumi up restores it)",
};

/** AWS has what the stack file said at `version` (e.g. `commit 1a2b3c4 "canary 10"`): the edits since are not applied. */
export function notApplied(version: string, stack: string): DriftReading {
    return {
        verb: "differ",
        hint: `the stack file has changes that are not applied yet (AWS has what it said at ${version}); run pulumi up --stack ${stack} to apply them`,
    };
}

/** The first of `versions` (newest first) whose routing is exactly what AWS has, if any. */
export function appliedVersion<T extends { readonly cfg: SwitchyardConfig }>(versions: readonly T[], actual: StackState): T | undefined {
    return versions.find((v) => !compareStack(v.cfg, actual).drifted);
}

/** Percent of traffic per colour from raw ALB weights; targets outside this stack are `other`. */
export function weightShares(forward: readonly ForwardTarget[]): { shares: Record<Color, number>; other: number } {
    const total = forward.reduce((sum, t) => sum + t.weight, 0);
    const shares: Record<Color, number> = { blue: 0, green: 0 };
    let other = 0;
    for (const t of forward) {
        const share = total > 0 ? (t.weight * 100) / total : 0;
        if (t.color) shares[t.color] += share;
        else other += share;
    }
    return { shares, other };
}

/**
 * What one service of a `switchyard:services` stack holds on the shared listeners, in the shape
 * compareStack reads for a single-service stack: its weights and its candidate are in its
 * weighted forward rule and its test-listener rule (lib/ruleLayout.ts places them), or in the
 * listeners' default actions for the default service; its route rules are the rules of its block
 * (RULE_BLOCK priorities from match.priority; the forward's excluded), so another service's rules
 * are never read as this one's. The single-service form reads the listeners as they are.
 */
export function serviceState(spec: StackSpec, service: string, actual: StackState): StackState {
    if (spec.form === "single") return actual;
    const own = ruleLayout(spec).filter((r) => r.service === service);
    const forward = own.find((r) => r.kind === "forward");
    const test = own.find((r) => r.kind === "test");
    const start = spec.services.find((s) => s.service.name === service)?.match?.priority ?? 1;
    const routes = (l: ListenerState) => l.rules.filter((r) => r.priority >= start && r.priority < start + RULE_BLOCK - 1);
    const production = actual.listeners.production;
    const testListener = actual.listeners.test;
    return {
        ...actual,
        listeners: {
            production: production && {
                ...production,
                forward: forward ? ruleForward(production, forward) : production.forward,
                forwardSource: forward ? ruleSource(forward) : undefined,
                rules: routes(production),
            },
            test: testListener && {
                ...testListener,
                forward: test ? ruleForward(testListener, test) : testListener.forward,
                forwardSource: test ? ruleSource(test) : undefined,
            },
        },
    };
}

function ruleForward(listener: ListenerState, rule: PlannedRule): readonly ForwardTarget[] {
    return listener.rules.find((r) => r.priority === rule.priority)?.forward ?? [];
}

function ruleSource(rule: PlannedRule): string {
    return `rule ${rule.priority} (${rule.logicalName})`;
}

export function compareStack(cfg: SwitchyardConfig, actual: StackState, reading: DriftReading = OUTSIDE_PULUMI): VerifyReport {
    const problems: string[] = [];
    let drifted = false;
    const notes: string[] = [];
    const expected = productionWeights(cfg);
    const withTraffic = colorsWithTraffic(cfg);
    const testTarget = testListenerTarget(cfg);
    const fleets = fleetColors(cfg);

    for (const color of fleets) {
        if (!actual.targetGroups[color]) problems.push(`no target group tagged switchyard:color=${color} for this stack; run pulumi up`);
    }

    const prod = actual.listeners.production;
    let shares: Record<Color, number> | undefined;
    if (!prod) {
        problems.push(`no listener on ${actual.loadBalancer.name} is tagged switchyard:role=production; run pulumi up`);
    } else if (prod.forward.length === 0) {
        drifted = true;
        problems.push(`the production listener's ${prod.forwardSource ?? "default action"} is not a forward: ${reading.hint}`);
    } else {
        const w = weightShares(prod.forward);
        shares = w.shares;
        const differs = COLORS.filter((c) => !near(w.shares[c], expected[c]));
        if (differs.length > 0 || w.other > 0) {
            const got =
                COLORS.map((c) => `${c} ${fmt(w.shares[c])}`).join(", ") + (w.other > 0 ? `, other target groups ${fmt(w.other)}` : "");
            const want = COLORS.map((c) => `${c} ${expected[c]}`).join(", ");
            drifted = true;
            problems.push(`production weights ${reading.verb}: AWS has ${got}, the stack file says ${want}: ${reading.hint}`);
        }
        const rules = prod.rules;
        const routes = [...cfg.traffic.routes].sort((a, b) => a.priority - b.priority);
        const ruleColors = rules.map((r) => describeRuleTarget(r.forward));
        const routeColors = routes.map((r) => r.color);
        if (rules.length !== routes.length || ruleColors.some((c, i) => c !== routeColors[i])) {
            drifted = true;
            problems.push(
                `production listener rules ${reading.verb}: AWS has ${rules.length} rule(s) [${ruleColors.join(", ")}], ` +
                    `the stack file has ${routes.length} route(s) [${routeColors.join(", ")}]: ${reading.hint}`,
            );
        } else {
            notes.push(`production listener rules match traffic.routes (${routes.length})`);
        }
    }

    const test = actual.listeners.test;
    const testColors = new Set<Color>();
    if (testTarget) {
        if (!test) {
            problems.push(`no listener on ${actual.loadBalancer.name} is tagged switchyard:role=test; run pulumi up`);
        } else {
            const w = weightShares(test.forward);
            for (const c of COLORS) if (w.shares[c] > 0) testColors.add(c);
            const actualText =
                test.forward.length === 0 ? "no forward" : [...testColors, ...(w.other > 0 ? ["another target group"] : [])].join(" + ");
            if (testColors.size !== 1 || !testColors.has(testTarget) || w.other > 0) {
                drifted = true;
                problems.push(
                    `the test listener forwards to ${actualText || "nothing"}, but the candidate is ${testTarget} ` +
                        `(live is ${cfg.traffic.live}): testers would not reach the candidate; run pulumi up to restore it`,
                );
            }
        }
    }

    const rows: VerifyRow[] = fleets.map((color) => {
        const health = actual.health[color];
        const required = withTraffic.includes(color) ? cfg.service.minHealthyTargets : undefined;
        if (required !== undefined && health && health.healthy < required) {
            problems.push(`${color} receives traffic but has ${health.healthy} of ${required} healthy targets (service.minHealthyTargets)`);
        }
        return {
            color,
            expectedWeight: expected[color],
            actualWeight: shares?.[color],
            healthy: health?.healthy,
            required,
            testExpected: testTarget === color,
            testActual: testColors.has(color),
        };
    });
    return { rows, problems, drifted, notes, ok: problems.length === 0 };
}

/** The table `verify` prints; a trailing ✗ marks a cell that disagrees with the stack file. */
export function formatTable(rows: readonly VerifyRow[]): string[] {
    const header = ["colour", "expected weight", "actual weight", "healthy/required", "test listener"];
    const body = rows.map((r) => {
        const weightBad = r.actualWeight === undefined || !near(r.actualWeight, r.expectedWeight);
        const healthBad = r.required !== undefined && (r.healthy ?? 0) < r.required;
        const testBad = r.testExpected !== r.testActual;
        return [
            r.color,
            `${r.expectedWeight}%`,
            (r.actualWeight === undefined ? "-" : `${fmt(r.actualWeight)}%`) + (weightBad ? " ✗" : ""),
            `${r.healthy ?? "-"}/${r.required ?? "-"}` + (healthBad ? " ✗" : ""),
            (r.testActual ? "yes" : "no") + (testBad ? ` ✗ (expected ${r.testExpected ? "yes" : "no"})` : ""),
        ];
    });
    return renderTable(header, body, { separator: " | ", rule: true });
}

function describeRuleTarget(forward: readonly ForwardTarget[]): string {
    const colors = [...new Set(forward.filter((t) => t.weight > 0 || forward.length === 1).map((t) => t.color ?? "other"))];
    return colors.length === 0 ? "no forward" : colors.join("+");
}

function near(a: number, b: number): boolean {
    return Math.abs(a - b) < 0.01;
}

function fmt(n: number): string {
    return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
