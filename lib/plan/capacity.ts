/** Warm capacity: what each colour runs after a change, and what is kept warm beyond steady state. Pure. */
import { Color, COLORS, SwitchyardConfig } from "../model";
import { colorsWithTraffic, desiredTasks, fleetColors, isIdle } from "../traffic";

export interface ColorCapacity {
    readonly color: Color;
    /** live, canary/routes, warm (a candidate or the rollback target), idle, or empty. */
    readonly role: string;
    readonly tasks: number;
    readonly vcpu: number;
    readonly memoryMiB: number;
    /** With autoscaling, the task range ECS keeps the count in (tasks is the starting count). */
    readonly autoscaling: { readonly min: number; readonly max: number } | null;
}

export interface Capacity {
    readonly colors: readonly ColorCapacity[];
    /** Tasks, vCPU and memory on colours without production traffic (kept warm for testing or rollback). */
    readonly beyondSteadyState: { readonly tasks: number; readonly vcpu: number; readonly memoryMiB: number };
}

export function warmCapacity(cfg: SwitchyardConfig): Capacity {
    const serving = colorsWithTraffic(cfg);
    const colors = COLORS.filter((c) => fleetColors(cfg).includes(c)).map((color): ColorCapacity => {
        const tasks = desiredTasks(cfg, color);
        // As components/blueGreenService.ts wires it: every filled colour that is not idle autoscales.
        const scaling = cfg.service.autoscaling && cfg.slots[color] && !isIdle(cfg, color) ? cfg.service.autoscaling : undefined;
        return {
            color,
            role: roleOf(cfg, color, serving),
            tasks,
            vcpu: (tasks * cfg.service.cpu) / 1024,
            memoryMiB: tasks * cfg.service.memory,
            autoscaling: scaling ? { min: scaling.min, max: scaling.max } : null,
        };
    });
    const warm = colors.filter((c) => !serving.includes(c.color));
    return {
        colors,
        beyondSteadyState: {
            tasks: warm.reduce((n, c) => n + c.tasks, 0),
            vcpu: warm.reduce((n, c) => n + c.vcpu, 0),
            memoryMiB: warm.reduce((n, c) => n + c.memoryMiB, 0),
        },
    };
}

function roleOf(cfg: SwitchyardConfig, color: Color, serving: readonly Color[]): string {
    if (!cfg.slots[color]) return "empty";
    if (cfg.traffic.live === color) return "live";
    if (serving.includes(color)) return "canary";
    if (isIdle(cfg, color)) return "idle";
    return cfg.traffic.previous === color ? "warm for rollback" : "warm candidate";
}

export function capacityLines(c: Capacity): string[] {
    const lines = c.colors.map(
        (x) =>
            `${x.color} (${x.role}): ${x.tasks} task${x.tasks === 1 ? "" : "s"}, ${x.vcpu} vCPU, ${x.memoryMiB} MiB` +
            (x.autoscaling ? ` (autoscaling ${x.autoscaling.min}..${x.autoscaling.max})` : ""),
    );
    const b = c.beyondSteadyState;
    lines.push(`beyond steady state: ${b.tasks} task${b.tasks === 1 ? "" : "s"}, ${b.vcpu} vCPU, ${b.memoryMiB} MiB`);
    return lines;
}
