/**
 * Runs the CrossGuard policies of policy/policies.ts in-process against resources recorded by the
 * Pulumi mocks, the way the @pulumi/policy analyzer server would: each resource becomes
 * `ResourceValidationArgs` / a `PolicyResource` (type, props behind the same unknown-checking
 * proxy, urn, name, opts, dependencies), per-policy config comes from a map shaped like a
 * `--policy-pack-config` file, and every `reportViolation` call is collected.
 */
import {
    Policy,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
    unknownCheckingProxy,
} from "@pulumi/policy";
import { Recorded } from "../helpers/mocks";

export interface Violation {
    readonly policy: string;
    readonly enforcementLevel: string;
    readonly message: string;
    /** The resource the violation is about (stack policies may name one). */
    readonly urn?: string;
}

export interface PolicyRun {
    readonly violations: Violation[];
    /** Policies that applied to at least one resource (did not call notApplicable). */
    readonly applied: Set<string>;
}

/** Per-policy config, keyed by policy name, as in a `--policy-pack-config` JSON file. */
export type PackConfig = Readonly<Record<string, object>>;

const OPTS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

class NotApplicable extends Error {}

function isTypeOf(type: string, resourceClass: unknown): boolean {
    return (resourceClass as { __pulumiType?: string }).__pulumiType === type;
}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason);
}

function resourceArgs(r: Recorded, config: object): ResourceValidationArgs {
    const props = unknownCheckingProxy(r.inputs);
    return {
        type: r.type,
        props,
        urn: r.urn,
        name: r.name,
        opts: OPTS,
        stackTags: new Map(),
        isType: (cls) => isTypeOf(r.type, cls),
        asType: (cls) => (isTypeOf(r.type, cls) ? (props as any) : undefined),
        getConfig: <T extends object>() => config as T,
        notApplicable,
    };
}

/** Every recorded custom resource as a PolicyResource, dependencies linked by URN. */
export function stackResources(recorded: readonly Recorded[]): PolicyResource[] {
    const custom = recorded.filter((r) => r.custom);
    const byUrn = new Map<string, PolicyResource>();
    const resources = custom.map((r) => {
        const props = unknownCheckingProxy(r.inputs);
        const resource: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: OPTS,
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => isTypeOf(r.type, cls),
            asType: (cls) => (isTypeOf(r.type, cls) ? (props as any) : undefined),
        };
        byUrn.set(r.urn, resource);
        return resource;
    });
    custom.forEach((r, i) => {
        resources[i].dependencies = r.dependencies.flatMap((u) => byUrn.get(u) ?? []);
    });
    return resources;
}

/** Runs each policy over the recorded resources; resource policies once per custom resource. */
export async function runPolicies(
    policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[],
    recorded: readonly Recorded[],
    config: PackConfig = {},
): Promise<PolicyRun> {
    const violations: Violation[] = [];
    const applied = new Set<string>();
    for (const policy of policies) {
        const report = (message: string, urn?: string) => violations.push(violation(policy, message, urn));
        const policyConfig = config[policy.name] ?? {};
        if ("validateStack" in policy) {
            const ran = await attempt(() =>
                policy.validateStack(
                    {
                        resources: stackResources(recorded),
                        stackTags: new Map(),
                        getConfig: <T extends object>() => policyConfig as T,
                        notApplicable,
                    },
                    report,
                ),
            );
            if (ran) applied.add(policy.name);
            continue;
        }
        const validations = [policy.validateResource ?? []].flat();
        for (const r of recorded.filter((x) => x.custom)) {
            for (const validate of validations) {
                const ran = await attempt(() => validate(resourceArgs(r, policyConfig), (message, urn) => report(message, urn ?? r.urn)));
                if (ran) applied.add(policy.name);
            }
        }
    }
    return { violations, applied };
}

async function attempt(run: () => unknown): Promise<boolean> {
    try {
        await run();
        return true;
    } catch (e) {
        if (e instanceof NotApplicable) return false;
        throw e;
    }
}

function violation(policy: Policy, message: string, urn?: string): Violation {
    return { policy: policy.name, enforcementLevel: policy.enforcementLevel ?? "advisory", message, urn };
}

/** A copy of `r` with deep-copied inputs changed by `change` (for deliberately bad inputs). */
export function withInputs(r: Recorded, change: (inputs: Record<string, any>) => void): Recorded {
    const inputs = JSON.parse(JSON.stringify(r.inputs));
    change(inputs);
    return { ...r, inputs };
}

/** `resources` with the one named `name` (of `type`) replaced by `change(it)`. */
export function replacing(
    resources: readonly Recorded[],
    type: string,
    name: string,
    change: (inputs: Record<string, any>) => void,
): Recorded[] {
    let found = 0;
    const out = resources.map((r) => {
        if (r.type !== type || r.name !== name) return r;
        found++;
        return withInputs(r, change);
    });
    if (found !== 1) throw new Error(`expected one ${type} named ${name}, found ${found}`);
    return out;
}

export function messages(run: PolicyRun, policy?: string): string[] {
    return run.violations.filter((v) => policy === undefined || v.policy === policy).map((v) => v.message);
}
