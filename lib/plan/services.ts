/**
 * The plan of a stack of several services (`switchyard:services`): one Plan per service (its kind
 * of change, traffic, resources, invariants, undo, as for a single-service stack) and the changes
 * of what the services share (the edge). The resource diff is made once over the whole stack, so
 * it follows aliases across components (a single-service stack moved into `services:` hands its
 * load balancer to the shared edge by alias: no create, no delete); each change then goes to the
 * service whose component it belongs to. Pure.
 */
import type { Recorded } from "../program/mocks";
import { SwitchyardConfig } from "../model";
import { ServiceSpec, StackSpec, serviceNamed } from "../stackSpec";
import { ResourceChange, diffEvaluations, readingOrder } from "./diff";
import { Calls, callsOf } from "./calls";
import { Plan, buildPlan } from "./plan";

/** One side of the change for a whole stack. */
export interface StackSide {
    /** The stack file's whole `config:` map. */
    readonly file: Readonly<Record<string, unknown>>;
    readonly spec: StackSpec;
    readonly resources: readonly Recorded[];
}

export interface StackPlanInput {
    readonly baseLabel: string;
    readonly before?: StackSide;
    readonly after: StackSide;
    /** `--service`: plan this service only (the shared changes are still shown). */
    readonly only?: string;
    readonly liveElsewhere?: ReadonlyMap<string, string>;
    readonly dirArg?: string;
}

export interface ServicePlan {
    readonly service: string;
    readonly plan: Plan;
}

export interface StackPlan {
    readonly stack: string;
    readonly base: string;
    readonly services: readonly ServicePlan[];
    /** Changes of resources no service owns: the shared edge, and the services the change removes. */
    readonly shared: readonly ResourceChange[];
    /** Which builds call which, before and after, and whether each pair is compatible. */
    readonly calls: Calls;
}

const PREFIX = "switchyard:";
const SERVICES = `${PREFIX}services`;
const EDGE_KEYS = [SERVICES, `${PREFIX}loadBalancer`];

export function buildStackPlan(input: StackPlanInput): StackPlan {
    const { before, after } = input;
    const changes = readingOrder(diffEvaluations(before?.resources ?? [], after.resources));
    const owners = ownersOf([...(before?.resources ?? []), ...after.resources], after.resources);
    const ownerOfChange = (c: ResourceChange) => owners.get(`${c.type}::${c.name}`) ?? "";
    const names = after.spec.services.map((s) => s.service.name).filter((n) => input.only === undefined || n === input.only);
    const services = names.map((name): ServicePlan => {
        const was = before && serviceNamed(before.spec, name);
        const own = (resources: readonly Recorded[]) => resources.filter((r) => owners.get(`${r.type}::${r.name}`) === name);
        const plan = buildPlan({
            baseLabel: input.baseLabel,
            before:
                before && was ? { file: serviceFile(before.file, name), config: plain(was), resources: own(before.resources) } : undefined,
            after: { file: serviceFile(after.file, name), config: plain(serviceNamed(after.spec, name)!), resources: own(after.resources) },
            changes: changes.filter((c) => ownerOfChange(c) === name),
            liveElsewhere: input.liveElsewhere,
            // The undo commands act on this service: the release tool's --service.
            dirArg: ` --service ${name}${input.dirArg ?? ""}`,
        });
        return { service: name, plan };
    });
    const serviceNames = new Set(after.spec.services.map((s) => s.service.name));
    return {
        stack: after.spec.stack,
        base: input.baseLabel,
        services,
        shared: changes.filter((c) => !serviceNames.has(ownerOfChange(c))),
        calls: callsOf(before?.spec, after.spec),
    };
}

/** A service as the single-service config its view file parses to (the undo simulation compares them). */
export function plain(service: ServiceSpec): SwitchyardConfig {
    const { match: _match, keyPath: _keyPath, ...config } = service;
    return config;
}

/**
 * `type::name` → the name of the top component it belongs to: a service's BlueGreenService (named
 * by the service) or the shared edge's LoadBalancer. The newer evaluation decides when both have it.
 */
function ownersOf(all: readonly Recorded[], after: readonly Recorded[]): Map<string, string> {
    const owners = new Map<string, string>();
    const note = (resources: readonly Recorded[]) => {
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        for (const r of resources) {
            let top = r;
            for (let p = byUrn.get(top.parent); p; p = byUrn.get(top.parent)) top = p;
            owners.set(`${r.type}::${r.name}`, top.name);
        }
    };
    note(all.filter((r) => !after.includes(r)));
    note(after);
    return owners;
}

/**
 * One service's keys as a single-service stack file's `config:` map (what the per-service plan,
 * its step kinds and its undo simulation read): `switchyard:services.<name>.<section>` becomes
 * `switchyard:<section>` with `service.name` = the key; stack-wide keys stay. A single-service
 * file is returned as it is.
 */
export function serviceFile(file: Readonly<Record<string, unknown>>, name: string): Record<string, unknown> {
    const services = file[SERVICES] as Record<string, Record<string, unknown>> | undefined;
    if (!services) return { ...file };
    const view: Record<string, unknown> = Object.fromEntries(Object.entries(file).filter(([k]) => !EDGE_KEYS.includes(k)));
    const { match: _match, ...sections } = services[name] ?? {};
    for (const [section, value] of Object.entries(sections)) view[`${PREFIX}${section}`] = value;
    view[`${PREFIX}service`] = { ...((sections.service as object) ?? {}), name };
    return view;
}
