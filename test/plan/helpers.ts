/** Plans built the way `plan` builds them, from stack-file `config:` maps, with evaluations cached per config. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { SwitchyardConfig, parseConfig } from "../../lib/config";
import { Plan, Side, buildPlan } from "../../lib/plan/plan";
import { StepResult, runStep } from "../../lib/release";
import { evaluate } from "../helpers/program";
import { buildAssumptions } from "../../lib/plan/builds";
import type { BuildAssumption } from "../../lib/program/mocks";

export type ConfigMap = Record<string, unknown>;

const PREFIX = "switchyard:";
export const ROOT = path.resolve(__dirname, "../..");

/**
 * A build's digest as `pulumi stack output images` would give it: the stack's auto-named repository
 * and a digest the mocks never produce themselves, so a pin is planned through the plan's build
 * assumption (lib/plan/builds.ts), as for a real stack.
 */
export const BUILT = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-image-repo-5f3c2a1@sha256:${"9".repeat(64)}`;
export const digest = (hex: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${hex.repeat(64)}`;

export function committed(stack: string): ConfigMap {
    return parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;
}

export function rawOf(map: ConfigMap): Record<string, unknown> {
    return Object.fromEntries(Object.entries(map).flatMap(([k, v]) => (k.startsWith(PREFIX) ? [[k.slice(PREFIX.length), v]] : [])));
}

export function withRaw(map: ConfigMap, raw: Record<string, unknown>): ConfigMap {
    const others = Object.entries(map).filter(([k]) => !k.startsWith(PREFIX));
    return Object.fromEntries([...others, ...Object.entries(raw).map(([k, v]) => [PREFIX + k, v])]);
}

export const configOf = (stack: string, map: ConfigMap): SwitchyardConfig => parseConfig(rawOf(map), stack);

/** The stack file after a release step from lib/release.ts (the release tool's own edits). */
export function afterStep(stack: string, map: ConfigMap, step: (cfg: SwitchyardConfig) => StepResult): ConfigMap {
    const outcome = runStep(rawOf(map), stack, step);
    if (!outcome.ok) throw new Error(`the step refused: ${outcome.refusal}`);
    return withRaw(map, outcome.raw);
}

const evaluations = new Map<string, Side>();

async function side(stack: string, map: ConfigMap, build: BuildAssumption): Promise<Side> {
    const key = `${stack}\n${JSON.stringify(map)}\n${JSON.stringify(build)}`;
    if (!evaluations.has(key)) {
        evaluations.set(key, { file: map, config: configOf(stack, map), resources: (await evaluate(stack, map, build)).resources });
    }
    return evaluations.get(key)!;
}

export async function planOf(
    stack: string,
    before: ConfigMap | undefined,
    after: ConfigMap,
    liveElsewhere?: ReadonlyMap<string, string>,
): Promise<Plan> {
    // The same assumption about builds as the plan command (lib/plan/builds.ts).
    const builds = buildAssumptions(before ? configOf(stack, before) : undefined, configOf(stack, after));
    return buildPlan({
        baseLabel: before ? "base" : "none",
        before: before ? await side(stack, before, builds.before) : undefined,
        after: await side(stack, after, builds.after),
        liveElsewhere,
    });
}

/** `update Listener web-prod-listener`-style lines, sorted: what a test asserts exactly. */
export function changeList(plan: Plan): string[] {
    return plan.resources.map((r) => `${r.change} ${r.type.split(":").pop()} ${r.name}`).sort();
}
