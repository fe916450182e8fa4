/**
 * The stack configuration: the `switchyard:*` keys of `Pulumi.<stack>.yaml`, parsed and validated
 * in one pass. Pure: no Pulumi resources, no AWS calls. Used by index.ts (the Pulumi program) and
 * by the release tool, so both agree on what a valid stack file is. The types are in model.ts;
 * each section's parser is in lib/parse/.
 */
import { CONFIG_KEYS, Color, ENVIRONMENTS, RawConfig, STRATEGIES, SwitchyardConfig, defaultEnvironment } from "./model";
import { parseService } from "./parse/service";
import { parseAlarms, parseDatabase, parseHttps, parseNetwork, parseTestAccess } from "./parse/settings";
import { parseRollout } from "./parse/rollout";
import { parseSlots } from "./parse/slots";
import { checkTrafficColors, parseTraffic } from "./parse/traffic";
import { Problems } from "./problems";

export * from "./model";

/**
 * Parses and validates every `switchyard:*` key at once. Throws one ConfigError naming each
 * offending key and its fix; returns a model with every default filled in.
 */
export function parseConfig(raw: RawConfig, stack: string): SwitchyardConfig {
    const p = new Problems();
    for (const key of Object.keys(raw)) {
        if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
            p.add(`switchyard:${key} is not a known key; use one of: ${CONFIG_KEYS.map((k) => `switchyard:${k}`).join(", ")}`);
        }
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
