/**
 * The traffic plan: who gets production traffic, how many tasks each colour runs, where the
 * test listener points. Pure functions of the validated config; the components only carry them.
 */
import { Color, COLORS, SwitchyardConfig, otherColor } from "./config";

export type Weights = Readonly<Record<Color, number>>;

/** The colour that is not live: it receives new builds and the test listener. */
export function candidateColor(cfg: SwitchyardConfig): Color {
    return otherColor(cfg.traffic.live);
}

/** Production weights of the default action (invariant 1: they sum to 100). */
export function productionWeights(cfg: SwitchyardConfig): Weights {
    const canary = cfg.strategy === "blue-green" ? (cfg.traffic.canary?.percent ?? 0) : 0;
    const live = cfg.traffic.live;
    return { [live]: 100 - canary, [otherColor(live)]: canary } as Record<Color, number>;
}

/** Colours that receive any production traffic: the live one, the canary, and route targets. */
export function colorsWithTraffic(cfg: SwitchyardConfig): Color[] {
    const weights = productionWeights(cfg);
    return COLORS.filter((c) => weights[c] > 0 || cfg.traffic.routes.some((r) => r.color === c));
}

/**
 * Tasks a colour runs: none for an empty slot; `desiredCount` for a colour with traffic or kept
 * warm (a fresh candidate, or the old live colour until `finish`); `idleCount` once marked idle.
 */
export function desiredTasks(cfg: SwitchyardConfig, color: Color): number {
    if (!cfg.slots[color]) return 0;
    return isIdle(cfg, color) ? cfg.service.idleCount : cfg.service.desiredCount;
}

/** A filled slot scaled down by `finish`: no traffic, `idle: true`. */
export function isIdle(cfg: SwitchyardConfig, color: Color): boolean {
    return cfg.slots[color]?.idle === true && !colorsWithTraffic(cfg).includes(color);
}

/** Whether a colour has an ECS service at all (an empty slot has only its target group). */
export function hasService(cfg: SwitchyardConfig, color: Color): boolean {
    return cfg.slots[color] !== undefined;
}

/** The colour the test listener forwards to; undefined with the rolling strategy (no test listener). */
export function testListenerTarget(cfg: SwitchyardConfig): Color | undefined {
    return cfg.strategy === "blue-green" ? candidateColor(cfg) : undefined;
}

/** The colours the stack creates fleets (target group, optional service) for. */
export function fleetColors(cfg: SwitchyardConfig): Color[] {
    return cfg.strategy === "blue-green" ? [...COLORS] : [cfg.traffic.live];
}
