/** The tags switchyard puts on its resources; `verify` finds the resources by them. */
import { Color, Environment } from "./config";

export const TAG_STACK = "switchyard:stack";
export const TAG_SERVICE = "switchyard:service";
export const TAG_COLOR = "switchyard:color";
export const TAG_ROLE = "switchyard:role";
export const TAG_ENVIRONMENT = "switchyard:environment";

export type ListenerRole = "production" | "test";

/** On every resource: whose it is, and whether it is production (the policy pack reads that). */
export function baseTags(stack: string, service: string, environment: Environment): Record<string, string> {
    return { [TAG_STACK]: stack, [TAG_SERVICE]: service, [TAG_ENVIRONMENT]: environment };
}

export function colorTags(base: Record<string, string>, color: Color): Record<string, string> {
    return { ...base, [TAG_COLOR]: color };
}

export function roleTags(base: Record<string, string>, role: ListenerRole): Record<string, string> {
    return { ...base, [TAG_ROLE]: role };
}
