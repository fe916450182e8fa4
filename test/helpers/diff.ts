/** Compares two evaluations of the program the way `pulumi preview` would summarise them. */
import { Recorded } from "./mocks";

export interface ResourceDiff {
    readonly created: string[];
    readonly deleted: string[];
    /** Resources whose inputs differ (an update or a replacement). */
    readonly changed: string[];
}

const key = (r: Recorded) => `${r.type}::${r.name}`;

export function diffResources(before: Recorded[], after: Recorded[]): ResourceDiff {
    const a = new Map(before.map((r) => [key(r), r]));
    const b = new Map(after.map((r) => [key(r), r]));
    return {
        created: [...b.keys()].filter((k) => !a.has(k)).sort(),
        deleted: [...a.keys()].filter((k) => !b.has(k)).sort(),
        changed: [...b.keys()].filter((k) => a.has(k) && JSON.stringify(a.get(k)!.inputs) !== JSON.stringify(b.get(k)!.inputs)).sort(),
    };
}

/** The resource types that only route traffic: changing them moves no task and replaces nothing. */
export const ROUTING_TYPES = new Set(["aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule", "pulumi-nodejs:dynamic:Resource"]);
