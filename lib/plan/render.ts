/** `plan` output: plain text for a terminal, Markdown for a pull-request comment, JSON for tools. Pure. */
import { capacityLines } from "./capacity";
import { callsText, hasCalls } from "./calls";
import { ResourceChange } from "./diff";
import { Plan } from "./plan";
import { StackPlan } from "./services";
import { trafficLines } from "./traffic";

const SIGN: Record<ResourceChange["change"], string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** The `--json` document: traffic.before/after, resources [{type, name, change, properties}], kind (and its parts), violations, undo. */
export function planJson(plan: Plan): Record<string, unknown> {
    return {
        stack: plan.stack,
        base: plan.base,
        kind: plan.kind,
        summary: plan.summary,
        parts: plan.parts.map((p) => p.kind),
        traffic: plan.traffic,
        resources: plan.resources.map((r) => ({
            type: r.type,
            name: r.name,
            component: r.component,
            change: r.change,
            properties: r.properties,
            ...(r.replacedBecause ? { replacedBecause: r.replacedBecause, source: r.source } : {}),
            ...(r.replacementUnknown ? { replacement: "unknown" } : {}),
            ...(r.follows ? { follows: r.follows } : {}),
        })),
        violations: plan.violations,
        capacity: plan.capacity,
        undo: plan.undo.command,
        undoNote: plan.undo.note,
    };
}

function resourceLine(r: ResourceChange): string {
    const type = r.type.split(":").pop();
    let line = `${SIGN[r.change]} ${r.change} ${type} ${r.name}`;
    if (r.properties.length) line += `: ${r.properties.join(", ")}`;
    if (r.follows) line += ` (follows the replaced ${r.follows.join(", ")})`;
    if (r.replacedBecause) line += ` — replaced because ${r.replacedBecause.join(", ")} cannot change in place (${r.source})`;
    if (r.replacementUnknown) line += " — replacement unknown (type not in the replacement table)";
    return line;
}

function byComponent(resources: readonly ResourceChange[]): Map<string, ResourceChange[]> {
    const groups = new Map<string, ResourceChange[]>();
    for (const r of resources) groups.set(r.component, [...(groups.get(r.component) ?? []), r]);
    return groups;
}

function counts(plan: Plan): string {
    return countsOf(plan.resources);
}

const verdictLine = (plan: Plan) =>
    plan.violations.length === 0 ? "blast radius holds (invariants 3–7)" : `${plan.violations.length} invariant(s) broken`;

export function planText(plan: Plan): string[] {
    const out = [`Plan for stack ${plan.stack} (base: ${plan.base})`, "", `Kind: ${plan.summary}`, `Verdict: ${verdictLine(plan)}`];
    out.push(...plan.violations.map((v) => `  ✗ ${v}`));
    out.push(
        "",
        "Traffic before:",
        ...(plan.traffic.before ? trafficLines(plan.traffic.before) : ["nothing deployed"]).map((l) => `  ${l}`),
    );
    out.push("Traffic after:", ...trafficLines(plan.traffic.after).map((l) => `  ${l}`));
    out.push("", `Resources: ${counts(plan)}`);
    for (const [component, rs] of byComponent(plan.resources)) out.push(`  ${component}`, ...rs.map((r) => `    ${resourceLine(r)}`));
    out.push("", "Warm capacity after:", ...capacityLines(plan.capacity).map((l) => `  ${l}`));
    out.push("", `Undo: ${plan.undo.command ?? "no single command"} (${plan.undo.note})`);
    return out;
}

export function planMarkdown(plan: Plan): string[] {
    const icon = plan.violations.length === 0 ? "✅" : "❌";
    const out = [`### switchyard plan: \`${plan.stack}\` — ${plan.kind}`, "", `**${plan.summary}**`, "", `${icon} ${verdictLine(plan)}`];
    out.push(...plan.violations.map((v) => `- ❌ ${v}`));
    out.push("", "| | before | after |", "| --- | --- | --- |");
    const before = plan.traffic.before ? trafficLines(plan.traffic.before) : ["nothing deployed"];
    const after = trafficLines(plan.traffic.after);
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
        out.push(`| ${i === 0 ? "traffic" : ""} | ${cell(before[i])} | ${cell(after[i])} |`);
    }
    out.push("", `**Resources** (${counts(plan)})`, "");
    for (const [component, rs] of byComponent(plan.resources)) {
        out.push(`- \`${component}\``, ...rs.map((r) => `  - \`${resourceLine(r)}\``));
    }
    out.push("", "**Warm capacity after**", "", ...capacityLines(plan.capacity).map((l) => `- ${l}`));
    out.push("", `**Undo:** ${plan.undo.command ? `\`${plan.undo.command}\`` : "no single command"} — ${plan.undo.note}`);
    out.push("", `<sub>Evaluated offline with Pulumi's mocks against ${plan.base}; no AWS credentials were used.</sub>`);
    return out;
}

const cell = (s: string | undefined) => (s ?? "").replace(/\|/g, "\\|");

/** A stack of several services: each service's plan under its name, then what the services share. */
export function stackPlanText(plan: StackPlan): string[] {
    const out = [`Plan for stack ${plan.stack} (base: ${plan.base}): ${plan.services.map((s) => s.service).join(", ")}`];
    for (const { service, plan: p } of plan.services) out.push("", `== service ${service} ==`, ...planText(p).slice(1));
    out.push("", `== shared (edge) ==`, `Resources: ${countsOf(plan.shared)}`);
    for (const [component, rs] of byComponent(plan.shared)) out.push(`  ${component}`, ...rs.map((r) => `    ${resourceLine(r)}`));
    if (hasCalls(plan.calls)) out.push("", ...callsText(plan.calls));
    return out;
}

export function stackPlanMarkdown(plan: StackPlan): string[] {
    const out = [`## switchyard plan: \`${plan.stack}\` — ${plan.services.map((s) => `${s.service}: ${s.plan.kind}`).join(", ")}`];
    for (const { plan: p } of plan.services) out.push("", ...planMarkdown(p).slice(0, -2));
    out.push("", `**Shared (edge)** (${countsOf(plan.shared)})`, "");
    for (const [component, rs] of byComponent(plan.shared)) out.push(`- \`${component}\``, ...rs.map((r) => `  - \`${resourceLine(r)}\``));
    if (hasCalls(plan.calls)) out.push("", "```", ...callsText(plan.calls), "```");
    out.push("", `<sub>Evaluated offline with Pulumi's mocks against ${plan.base}; no AWS credentials were used.</sub>`);
    return out;
}

/** `--json` of a stack of several services: `services.<name>` is a single service's document. */
export function stackPlanJson(plan: StackPlan): Record<string, unknown> {
    return {
        stack: plan.stack,
        base: plan.base,
        services: Object.fromEntries(plan.services.map((s) => [s.service, planJson(s.plan)])),
        shared: plan.shared.map((r) => ({
            type: r.type,
            name: r.name,
            component: r.component,
            change: r.change,
            properties: r.properties,
        })),
        ...(hasCalls(plan.calls) ? { calls: plan.calls } : {}),
    };
}

function countsOf(resources: readonly ResourceChange[]): string {
    const n = (c: ResourceChange["change"]) => resources.filter((r) => r.change === c).length;
    return `${n("create")} to create, ${n("update")} to update, ${n("replace")} to replace, ${n("delete")} to delete`;
}
