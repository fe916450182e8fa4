/**
 * The names of the CloudWatch alarms components/monitoring.ts creates for each colour
 * (`switchyard-<stack>-<service>-<color>-<suffix>`), in one place for the program that creates
 * them and for `rollout`, which reads exactly these names: a name prefix would also match other
 * services' alarms (`switchyard-dev-web-` matches service `web-api`'s).
 */
import { Color } from "./model";

/** One alarm per suffix and colour: target 5xx, unhealthy hosts, p99 latency. */
export const ALARM_SUFFIXES = ["5xx", "unhealthy-hosts", "p99-latency"] as const;
export type AlarmSuffix = (typeof ALARM_SUFFIXES)[number];

/** Characters other than letters, digits, - and _ become - (what CloudWatch names and dashboards accept). */
export function alarmSafe(name: string): string {
    return name.replace(/[^A-Za-z0-9_-]/g, "-");
}

/** `<prefix>-<color>-<suffix>`; `prefix` is already safe (`alarmSafe`). */
export function alarmName(prefix: string, color: Color, suffix: AlarmSuffix): string {
    return `${prefix}-${color}-${suffix}`;
}

/** Every alarm name one colour of a stack's service has. */
export function colorAlarmNames(stack: string, service: string, color: Color): string[] {
    const prefix = alarmSafe(`switchyard-${stack}-${service}`);
    return ALARM_SUFFIXES.map((suffix) => alarmName(prefix, color, suffix));
}
