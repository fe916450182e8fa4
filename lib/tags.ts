/** The tags switchyard puts on its resources; `verify` finds the resources by them. */
import { Color } from "./config";

export const TAG_STACK = "switchyard:stack";
export const TAG_SERVICE = "switchyard:service";
export const TAG_COLOR = "switchyard:color";
export const TAG_ROLE = "switchyard:role";

export type ListenerRole = "production" | "test";

export function baseTags(stack: string, service: string): Record<string, string> {
    return { [TAG_STACK]: stack, [TAG_SERVICE]: service };
}

export function colorTags(base: Record<string, string>, color: Color): Record<string, string> {
    return { ...base, [TAG_COLOR]: color };
}

export function roleTags(base: Record<string, string>, role: ListenerRole): Record<string, string> {
    return { ...base, [TAG_ROLE]: role };
}
