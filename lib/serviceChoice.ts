/**
 * `--service NAME` of the per-service tools (rollout, verify, plan): which service of a stack a
 * command acts on. Required when the stack has more than one service, optional with one; the
 * refusal lists the services. Pure: the CLI turns a refusal into exit 2 (nothing written).
 */
import { ServiceSpec, StackSpec } from "./stackSpec";

export type ServiceChoice = { readonly ok: true; readonly service: ServiceSpec } | { readonly ok: false; readonly refusal: string };

/** The service `--service` names, or the only one when it is not given. */
export function chooseService(spec: StackSpec, name: string | undefined, command: string): ServiceChoice {
    const names = spec.services.map((s) => s.service.name);
    const listed = names.join(", ");
    if (name === undefined) {
        if (spec.services.length === 1) return { ok: true, service: spec.services[0] };
        return {
            ok: false,
            refusal: `stack ${spec.stack} has ${names.length} services (${listed}): ${command} needs --service NAME, one of ${listed}`,
        };
    }
    const service = spec.services.find((s) => s.service.name === name);
    if (service) return { ok: true, service };
    return {
        ok: false,
        refusal: `--service ${name || '""'}: stack ${spec.stack} has no service ${name || '""'}; its service${names.length === 1 ? " is" : "s are"} ${listed}`,
    };
}
