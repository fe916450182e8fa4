/**
 * The stack configuration: the `switchyard:*` keys of `Pulumi.<stack>.yaml`, parsed and validated
 * in one pass. Pure: no Pulumi resources, no AWS calls. Used by index.ts (the Pulumi program) and
 * by the release tool, so both agree on what a valid stack file is. The types are in model.ts;
 * each section's parser is in lib/parse/.
 */
import { CONFIG_KEYS, Color, ENVIRONMENTS, RawConfig, STRATEGIES, SwitchyardConfig, defaultEnvironment } from "./model";
import { parseLoadBalancer } from "./parse/edge";
import { parseService } from "./parse/service";
import { SERVICES_KEY, SERVICE_SECTIONS, checkServiceEntry, checkServiceKey, parseMatch, serviceView } from "./parse/services";
import { parseAlarms, parseDatabase, parseHttps, parseNetwork, parseTestAccess } from "./parse/settings";
import { parseRollout } from "./parse/rollout";
import { parseSlots } from "./parse/slots";
import { checkTrafficColors, parseTraffic } from "./parse/traffic";
import { CoexistenceError, ConfigError, KeyNamespace, Problems, TOP_LEVEL, nestedKeys } from "./problems";
import { ALB_QUOTAS, layoutProblems } from "./ruleLayout";
import { ServiceSpec, StackSpec } from "./stackSpec";
import { coexistenceProblems } from "./coexistence";
import { TRAINS_KEY, parseTrains } from "./parse/trains";

export * from "./model";

/**
 * Parses and validates a stack file's `switchyard:*` keys, in either form: one service at the
 * top (service, slots, traffic, ...), or `switchyard:services` with `switchyard:loadBalancer`.
 * Every problem at once, in one ConfigError, each naming the key where it is and the fix; the
 * rule layout (lib/ruleLayout.ts) and co-existence between services (invariant 13,
 * lib/coexistence.ts) are checked too, so nothing invalid is ever registered.
 */
export function parseStack(raw: RawConfig, stack: string): StackSpec {
    if (raw.services === undefined && raw.loadBalancer === undefined && raw.trains === undefined) {
        return singleServiceStack(parseConfig(raw, stack));
    }
    const p = new Problems();
    if (raw.services === undefined) {
        if (raw.loadBalancer !== undefined) {
            p.add(
                `switchyard:loadBalancer needs ${SERVICES_KEY}: it describes the load balancer several services share; ` +
                    `move the service's keys into ${SERVICES_KEY}.<name>, or remove switchyard:loadBalancer`,
            );
        }
        if (raw.trains !== undefined) {
            p.add(
                `${TRAINS_KEY} needs ${SERVICES_KEY}: a train releases several services together, and this stack has one; ` +
                    `remove ${TRAINS_KEY}, or move the service's keys into ${SERVICES_KEY}.<name> beside the services it goes with`,
            );
        }
        // The rest is a single-service stack: its problems too, at once.
        collect(p, () => parseConfig({ ...raw, loadBalancer: undefined, trains: undefined }, stack));
        p.throwIfAny();
    }
    reportUnknownKeys(p, raw);
    for (const [key, value] of Object.entries(raw)) reportEmptyValues(p, `switchyard:${key}`, value);
    for (const section of SERVICE_SECTIONS) {
        if (raw[section] !== undefined) {
            p.add(
                `switchyard:${section} cannot be used with ${SERVICES_KEY}: each service has its own; ` +
                    `move it into ${SERVICES_KEY}.<name>.${section}`,
            );
        }
    }
    const entries = p.object(SERVICES_KEY, raw.services, Object.keys((raw.services as object) ?? {}));
    if (entries && Object.keys(entries).length === 0) p.add(`${SERVICES_KEY} must name at least one service`);
    const names = Object.keys(entries ?? {});
    const edge = parseLoadBalancer(p, raw.loadBalancer, names, true);
    const lb = raw.loadBalancer as Record<string, unknown> | undefined;
    const defaultName = typeof lb === "object" && lb !== null ? lb.default : undefined;
    const services: ServiceSpec[] = [];
    for (const name of names) {
        const before = p.count;
        const validName = checkServiceKey(p, name);
        const entry = checkServiceEntry(p, name, entries![name]);
        if (!entry) continue;
        const match = parseMatch(p, name, entry.match, name === defaultName);
        // A key that is no valid name is reported above; the rest of the entry is still checked.
        const view = serviceView(validName ? name : "invalid-name", entry, raw);
        const config = collect(p, () => parseServiceConfig(view, stack, nestedKeys(`services.${name}`, SERVICE_SECTIONS)));
        if (config && p.count === before) services.push({ ...config, match, keyPath: ["services", name] });
    }
    const trains = raw.trains === undefined ? undefined : parseTrains(p, raw.trains, names, services);
    if (edge) {
        const spec: StackSpec = { stack, form: "services", edge, services, ...(trains ? { trains } : {}) };
        for (const problem of layoutProblems(spec)) p.add(problem);
        // A requirement on a service whose entry has problems would read as one on a missing service.
        const guard = services.length === names.length ? coexistenceProblems(spec) : [];
        if (p.count === 0 && guard.length > 0) throw new CoexistenceError(guard);
        for (const problem of guard) p.add(problem);
    }
    p.throwIfAny();
    return { stack, form: "services", edge: edge!, services, ...(trains ? { trains } : {}) };
}

/** The single-service form as a stack: one service, whose weighted forward is the listeners' default action. */
function singleServiceStack(config: SwitchyardConfig): StackSpec {
    const spec: StackSpec = {
        stack: config.stack,
        form: "single",
        edge: { default: config.service.name, maxRules: ALB_QUOTAS.rulesPerLoadBalancer },
        services: [{ ...config, keyPath: [] }],
    };
    const layout = layoutProblems(spec);
    const guard = coexistenceProblems(spec);
    if (layout.length === 0 && guard.length > 0) throw new CoexistenceError(guard);
    if (layout.length + guard.length > 0) throw new ConfigError([...layout, ...guard]);
    return spec;
}

/** Runs a parser that throws one ConfigError, keeping its problems in `p`. */
function collect<T>(p: Problems, parse: () => T): T | undefined {
    try {
        return parse();
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const problem of err.problems) p.add(problem);
        return undefined;
    }
}

function reportUnknownKeys(p: Problems, raw: RawConfig): void {
    for (const key of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
            p.add(`switchyard:${key} is not a known key; use one of: ${CONFIG_KEYS.map((k) => `switchyard:${k}`).join(", ")}`);
        }
    }
}

/**
 * Parses and validates the single-service form's `switchyard:*` keys at once. Throws one
 * ConfigError naming each offending key and its fix; returns a model with every default filled
 * in. parseStack reads either form; this one is what it runs on each service.
 */
export function parseConfig(raw: RawConfig, stack: string): SwitchyardConfig {
    return parseServiceConfig(raw, stack, TOP_LEVEL);
}

/** One service's keys, its problems named where they live (`namespace`, lib/problems.ts). */
function parseServiceConfig(raw: RawConfig, stack: string, namespace: KeyNamespace): SwitchyardConfig {
    const p = new Problems(namespace);
    reportUnknownKeys(p, raw);
    for (const key of ["services", "loadBalancer", "trains"]) {
        if (raw[key] !== undefined)
            p.add(`switchyard:${key} belongs to the many-services form, which parseConfig does not read: use parseStack`);
    }
    const known = p.count;
    for (const [key, value] of Object.entries(raw)) reportEmptyValues(p, `switchyard:${key}`, value);
    // Empty values are reported without the section parsers' follow-on problems about the same keys.
    if (p.count > known) p.throwIfAny();
    const strategy = p.oneOf("switchyard:strategy", raw.strategy, STRATEGIES) ?? "blue-green";
    const environment = p.oneOf("switchyard:environment", raw.environment, ENVIRONMENTS) ?? defaultEnvironment(stack);
    const service = parseService(p, raw.service);
    const network = parseNetwork(p, raw.network);
    const slots = parseSlots(p, raw.slots);
    const traffic = parseTraffic(p, raw.traffic, slots, strategy);
    const testAccess = parseTestAccess(p, raw.testAccess, strategy, environment);
    const https = parseHttps(p, raw.https);
    const database = parseDatabase(p, raw.database);
    const alarms = parseAlarms(p, raw.alarms);
    const registryRaw = p.object("switchyard:registry", raw.registry, ["keepImages"]);
    const rollout = parseRollout(p, raw.rollout, strategy);
    const registry = { keepImages: p.int("switchyard:registry.keepImages", registryRaw?.keepImages, { min: 1, max: 1000 }) };

    if (service?.gateProbePath !== undefined && https) {
        // The probe calls https://<alb>.elb.amazonaws.com:<port>; an ACM certificate names the
        // user's domain, never *.elb.amazonaws.com, so TLS verification would fail every probe
        // and the gate would time out on every canary.
        p.add(
            "switchyard:service.gateProbePath cannot be used with switchyard:https: the probe calls the load balancer's " +
                "*.elb.amazonaws.com name, which your certificate does not cover, so it could never pass; remove gateProbePath " +
                "(the gate still waits for healthy targets and quiet alarms)",
        );
    }
    if (traffic) {
        // A slot that was given but is invalid is already reported; do not also call it empty.
        const given = (c: Color) =>
            typeof raw.slots === "object" && raw.slots !== null && (raw.slots as Record<string, unknown>)[c] != null;
        checkTrafficColors(p, { slots, traffic, database }, given);
    }
    p.throwIfAny();
    return {
        stack,
        environment,
        strategy,
        service: service!,
        network,
        slots,
        traffic: traffic!,
        testAccess,
        https,
        database,
        alarms,
        registry,
        rollout,
    };
}

/**
 * An explicitly empty value (`percent:` with nothing after it, or `percent: ~`) is a typo, not
 * "unset": YAML reads both as null, which every section parser would otherwise take as absent
 * (an empty canary percent silently meaning "no canary"). Reported wherever it is, by its key.
 */
function reportEmptyValues(p: Problems, key: string, value: unknown): void {
    if (value === null) p.add(`${key} is empty; give it a value or remove the key`);
    else if (Array.isArray(value)) value.forEach((item, i) => reportEmptyValues(p, `${key}[${i}]`, item));
    else if (typeof value === "object") for (const [k, v] of Object.entries(value)) reportEmptyValues(p, `${key}.${k}`, v);
}

/**
 * The `switchyard:*` entries of Pulumi's flat config map (`pulumi.runtime.allConfig()`), with
 * the prefix stripped and object values decoded. Unknown keys are kept so they are reported.
 */
export function rawFromPulumiConfig(all: Readonly<Record<string, string>>): RawConfig {
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(all)) {
        if (!key.startsWith("switchyard:")) continue;
        raw[key.slice("switchyard:".length)] = decode(value);
    }
    return raw;
}

function decode(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value; // a plain string such as `rolling`
    }
}
