/**
 * A stack: one shared edge (the ALB, its listeners and security group) and the services behind
 * it. Each service is described by a SwitchyardConfig (its own settings plus the stack-wide ones
 * copied in), so every per-service function (traffic plan, release steps, rollout) runs on it
 * unchanged. Types and small helpers only; lib/config.ts parseStack builds a StackSpec.
 */
import { SwitchyardConfig, Train } from "./model";

/** Where a service's requests come from on the production listener (`switchyard:services.<name>.match`). */
export interface ServiceMatch {
    /** Path patterns (a path-pattern condition); empty: any path. */
    readonly paths: readonly string[];
    /** Host names (a host-header condition); empty: any host. */
    readonly hosts: readonly string[];
    /** The first priority of the service's block of rules (RULE_BLOCK priorities, lib/ruleLayout.ts). */
    readonly priority: number;
}

/** The ARNs of an existing ALB that switchyard attaches rules to and creates nothing of. */
export interface AdoptedEdge {
    readonly arn: string;
    readonly securityGroupId: string;
    readonly productionListenerArn: string;
    /** Needed when any service is blue-green (its candidate is served on the test listener). */
    readonly testListenerArn?: string;
}

/** `switchyard:loadBalancer`. */
export interface EdgeSettings {
    /** The service the listeners' default actions forward to; absent: a fixed 404. */
    readonly default?: string;
    /** Rules allowed on the ALB, both listeners together (the account's rules-per-ALB quota). */
    readonly maxRules: number;
    readonly adopt?: AdoptedEdge;
}

export interface ServiceSpec extends SwitchyardConfig {
    /**
     * Absent for the single-service form and for a default service given no match: its route
     * rules then sit at their own priorities, exactly as in the single-service form.
     */
    readonly match?: ServiceMatch;
    /** Where this service's keys live in the stack file: [] (single form) or ["services", name]. */
    readonly keyPath: readonly string[];
}

export interface StackSpec {
    readonly stack: string;
    readonly form: "single" | "services";
    /** Single form: { default: <service.name>, maxRules: 100 }. */
    readonly edge: EdgeSettings;
    /** In stack-file order. */
    readonly services: readonly ServiceSpec[];
    /** `switchyard:trains`, in stack-file order; absent when the file has none (always in the single form). */
    readonly trains?: readonly Train[];
}

export function serviceNamed(spec: StackSpec, name: string): ServiceSpec | undefined {
    return spec.services.find((s) => s.service.name === name);
}

/** The train `name` of the stack file, if there is one. */
export function trainNamed(spec: StackSpec, name: string): Train | undefined {
    return spec.trains?.find((t) => t.name === name);
}

/** Whether the listeners' default actions forward to this service (no forward or test rule of its own). */
export function isDefaultService(spec: StackSpec, service: ServiceSpec): boolean {
    return spec.edge.default === service.service.name;
}
