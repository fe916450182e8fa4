/**
 * The stack-configuration model: the `switchyard:*` keys of `Pulumi.<stack>.yaml`, parsed and
 * validated in one pass. Pure: no Pulumi resources, no AWS calls. Used by index.ts (the Pulumi
 * program) and by the release tool, so both agree on what a valid stack file is.
 */
import { Problems } from "./problems";

export const COLORS = ["blue", "green"] as const;
export type Color = (typeof COLORS)[number];

export const STRATEGIES = ["blue-green", "rolling"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const ENVIRONMENTS = ["development", "production"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The build versions of the database schema a slot's image can run against. */
export type SchemaSupport = { readonly versions: readonly number[] } | { readonly min: number; readonly max: number };

/** A filled slot: a digest-pinned image, or a Docker context that `pulumi up` builds and pushes. */
export type Slot =
    | { readonly kind: "image"; readonly image: string; readonly schema?: SchemaSupport; readonly idle: boolean }
    | { readonly kind: "build"; readonly context: string; readonly schema?: SchemaSupport; readonly idle: boolean };

export interface Autoscaling {
    readonly min: number;
    readonly max: number;
    readonly requestsPerTarget?: number;
    readonly cpuPercent?: number;
}

export interface ServiceSettings {
    readonly name: string;
    readonly port: number;
    readonly healthCheckPath: string;
    readonly cpu: number;
    readonly memory: number;
    /** Tasks of a colour that receives traffic or is kept warm. */
    readonly desiredCount: number;
    /** Tasks of a colour after `finish` (slot marked `idle`). */
    readonly idleCount: number;
    /** Healthy targets the health gate waits for before traffic moves to a colour. */
    readonly minHealthyTargets: number;
    readonly gateTimeoutSeconds: number;
    /** A path the gate requests through the test listener before the candidate gets traffic. */
    readonly gateProbePath?: string;
    readonly deploymentMinimumHealthyPercent: number;
    readonly deploymentMaximumPercent: number;
    /** Seconds ECS waits after SIGTERM before SIGKILL; must exceed the server's drain time. */
    readonly stopTimeoutSeconds: number;
    /** Seconds the ALB keeps in-flight requests of a deregistering target. */
    readonly deregistrationDelaySeconds: number;
    readonly autoscaling?: Autoscaling;
}

export interface NetworkSettings {
    readonly vpcId: string;
    readonly publicSubnetIds: readonly string[];
    readonly privateSubnetIds: readonly string[];
}

export interface HeaderMatch {
    readonly name: string;
    readonly values: readonly string[];
}

/** A partial-deployment rule: requests matching every condition go to `color`. */
export interface Route {
    readonly color: Color;
    readonly priority: number;
    readonly header?: HeaderMatch;
    readonly cookie?: { readonly name: string; readonly value: string };
    readonly sourceIps?: readonly string[];
    readonly hosts?: readonly string[];
    readonly query?: Readonly<Record<string, string>>;
}

export interface Canary {
    readonly percent: number;
    readonly stickiness?: number;
}

export interface TrafficSettings {
    readonly live: Color;
    readonly canary?: Canary;
    readonly routes: readonly Route[];
    /** The colour that was live before the last flip; kept warm until `finish`. */
    readonly previous?: Color;
}

export interface AlarmSettings {
    readonly http5xxThreshold: number;
    readonly unhealthyHostsThreshold: number;
    readonly p99LatencySeconds: number;
    readonly evaluationPeriods: number;
    readonly snsTopicArn?: string;
    readonly emails: readonly string[];
}

export interface SwitchyardConfig {
    readonly stack: string;
    readonly environment: Environment;
    readonly strategy: Strategy;
    readonly service: ServiceSettings;
    readonly network?: NetworkSettings;
    readonly slots: Readonly<Record<Color, Slot | undefined>>;
    readonly traffic: TrafficSettings;
    readonly testAccess: { readonly cidrs: readonly string[]; readonly port: number };
    readonly https?: { readonly certificateArn: string; readonly sslPolicy: string };
    readonly database?: { readonly schema?: number };
    readonly alarms: AlarmSettings;
    readonly registry: { readonly keepImages: number };
}

/** The raw `switchyard:<key>` values of a stack, keyed without the `switchyard:` prefix. */
export type RawConfig = Readonly<Record<string, unknown>>;

export const CONFIG_KEYS = [
    "service",
    "network",
    "slots",
    "traffic",
    "testAccess",
    "https",
    "database",
    "strategy",
    "environment",
    "alarms",
    "registry",
] as const;

export const DIGEST_PATTERN = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/;
const CIDR_PATTERN =
    /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/;
const CIDR = { pattern: CIDR_PATTERN, hint: "must be a CIDR block such as 10.0.0.0/8" };
const FARGATE_MEMORY: Readonly<Record<number, { min: number; max: number; step: number }>> = {
    256: { min: 512, max: 2048, step: 512 },
    512: { min: 1024, max: 4096, step: 1024 },
    1024: { min: 2048, max: 8192, step: 1024 },
    2048: { min: 4096, max: 16384, step: 1024 },
    4096: { min: 8192, max: 30720, step: 1024 },
    8192: { min: 16384, max: 61440, step: 4096 },
    16384: { min: 32768, max: 122880, step: 8192 },
};
/** ALB limit: condition values per listener rule. */
export const MAX_ROUTE_VALUES = 5;

export function otherColor(color: Color): Color {
    return color === "blue" ? "green" : "blue";
}

/** Environment when `switchyard:environment` is not set: stacks named prod/production are production. */
export function defaultEnvironment(stack: string): Environment {
    return stack === "prod" || stack === "production" ? "production" : "development";
}

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
    const registry = { keepImages: p.int("switchyard:registry.keepImages", registryRaw?.keepImages, { min: 1, max: 1000, default: 30 }) };

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
    };
}

function parseService(p: Problems, value: unknown): ServiceSettings | undefined {
    const key = "switchyard:service";
    if (value === undefined || value === null) {
        p.add(`${key} is required; set at least ${key}.name (e.g. name: web)`);
        return undefined;
    }
    const s = p.object(key, value, [
        "name",
        "port",
        "healthCheckPath",
        "cpu",
        "memory",
        "desiredCount",
        "idleCount",
        "minHealthyTargets",
        "gateTimeoutSeconds",
        "gateProbePath",
        "deploymentMinimumHealthyPercent",
        "deploymentMaximumPercent",
        "stopTimeoutSeconds",
        "deregistrationDelaySeconds",
        "autoscaling",
    ]);
    if (!s) return undefined;
    const before = p.count;
    const name = p.string(`${key}.name`, s.name, {
        pattern: /^[a-z][a-z0-9-]{0,15}$/,
        hint: "must be 1-16 lowercase letters, digits or hyphens, starting with a letter (it prefixes resource names)",
    });
    if (s.name === undefined) p.add(`${key}.name is required (e.g. name: web)`);
    const port = p.int(`${key}.port`, s.port, { min: 1, max: 65535, default: 8080 });
    const healthCheckPath =
        p.string(`${key}.healthCheckPath`, s.healthCheckPath, { pattern: /^\/\S{0,1023}$/, hint: "must be a path starting with /" }) ??
        "/healthz";
    const cpu = p.int(`${key}.cpu`, s.cpu, { min: 256, max: 16384, default: 256 });
    if (!(cpu in FARGATE_MEMORY)) p.add(`${key}.cpu must be a Fargate size: ${Object.keys(FARGATE_MEMORY).join(", ")} (got ${cpu})`);
    const memory = p.int(`${key}.memory`, s.memory, { min: 512, max: 122880, default: 512 });
    const sizes = FARGATE_MEMORY[cpu];
    if (sizes && (memory < sizes.min || memory > sizes.max || (memory - sizes.min) % sizes.step !== 0)) {
        p.add(`${key}.memory ${memory} does not fit cpu ${cpu}: use ${sizes.min}..${sizes.max} MiB in steps of ${sizes.step}`);
    }
    const desiredCount = p.int(`${key}.desiredCount`, s.desiredCount, { min: 1, max: 1000, default: 2 });
    const idleCount = p.int(`${key}.idleCount`, s.idleCount, { min: 0, max: 1000, default: 0 });
    if (idleCount > desiredCount) p.add(`${key}.idleCount (${idleCount}) must not exceed ${key}.desiredCount (${desiredCount})`);
    const minHealthyTargets = p.int(`${key}.minHealthyTargets`, s.minHealthyTargets, { min: 1, max: 1000, default: desiredCount });
    if (minHealthyTargets > desiredCount) {
        p.add(
            `${key}.minHealthyTargets (${minHealthyTargets}) must not exceed ${key}.desiredCount (${desiredCount}): the gate could never pass`,
        );
    }
    const gateTimeoutSeconds = p.int(`${key}.gateTimeoutSeconds`, s.gateTimeoutSeconds, { min: 1, max: 3600, default: 600 });
    const gateProbePath = p.string(`${key}.gateProbePath`, s.gateProbePath, {
        pattern: /^\/\S{0,1023}$/,
        hint: "must be a path starting with /",
    });
    const deploymentMinimumHealthyPercent = p.int(`${key}.deploymentMinimumHealthyPercent`, s.deploymentMinimumHealthyPercent, {
        min: 0,
        max: 100,
        default: 100,
    });
    const deploymentMaximumPercent = p.int(`${key}.deploymentMaximumPercent`, s.deploymentMaximumPercent, {
        min: 100,
        max: 200,
        default: 200,
    });
    if (deploymentMinimumHealthyPercent === 100 && deploymentMaximumPercent === 100) {
        p.add(
            `${key}.deploymentMaximumPercent must be above 100 when deploymentMinimumHealthyPercent is 100, or ECS can never replace a task`,
        );
    }
    const stopTimeoutSeconds = p.int(`${key}.stopTimeoutSeconds`, s.stopTimeoutSeconds, { min: 2, max: 120, default: 30 });
    const deregistrationDelaySeconds = p.int(`${key}.deregistrationDelaySeconds`, s.deregistrationDelaySeconds, {
        min: 0,
        max: 3600,
        default: 30,
    });
    const autoscaling = parseAutoscaling(p, s.autoscaling, desiredCount);
    if (p.count > before || name === undefined) return undefined;
    return {
        name,
        port,
        healthCheckPath,
        cpu,
        memory,
        desiredCount,
        idleCount,
        minHealthyTargets,
        gateTimeoutSeconds,
        gateProbePath,
        deploymentMinimumHealthyPercent,
        deploymentMaximumPercent,
        stopTimeoutSeconds,
        deregistrationDelaySeconds,
        autoscaling,
    };
}

function parseAutoscaling(p: Problems, value: unknown, desiredCount: number): Autoscaling | undefined {
    const key = "switchyard:service.autoscaling";
    const a = p.object(key, value, ["min", "max", "requestsPerTarget", "cpuPercent"]);
    if (!a) return undefined;
    const min = p.int(`${key}.min`, a.min, { min: 1, max: 1000 });
    const max = p.int(`${key}.max`, a.max, { min: 1, max: 1000 });
    if (a.min === undefined) p.add(`${key}.min is required (the fewest tasks of a colour with traffic)`);
    if (a.max === undefined) p.add(`${key}.max is required (the most tasks of a colour with traffic)`);
    if (min !== undefined && max !== undefined && min > max) p.add(`${key}.min (${min}) must not exceed ${key}.max (${max})`);
    if (min !== undefined && max !== undefined && (desiredCount < min || desiredCount > max)) {
        p.add(`switchyard:service.desiredCount (${desiredCount}) must lie within ${key}.min..max (${min}..${max})`);
    }
    const requestsPerTarget = p.int(`${key}.requestsPerTarget`, a.requestsPerTarget, { min: 1, max: 1000000 });
    const cpuPercent = p.int(`${key}.cpuPercent`, a.cpuPercent, { min: 10, max: 95 });
    if ((a.requestsPerTarget === undefined) === (a.cpuPercent === undefined)) {
        p.add(`${key}: set exactly one of requestsPerTarget or cpuPercent`);
    }
    if (min === undefined || max === undefined) return undefined;
    return { min, max, requestsPerTarget, cpuPercent };
}

function parseNetwork(p: Problems, value: unknown): NetworkSettings | undefined {
    const key = "switchyard:network";
    const n = p.object(key, value, ["vpcId", "publicSubnetIds", "privateSubnetIds"]);
    if (!n) return undefined;
    const subnet = { pattern: /^subnet-[0-9a-f]+$/, hint: "must be a subnet id (subnet-...)" };
    const vpcId = p.string(`${key}.vpcId`, n.vpcId, { pattern: /^vpc-[0-9a-f]+$/, hint: "must be a VPC id (vpc-...)" });
    const publicSubnetIds = p.stringList(`${key}.publicSubnetIds`, n.publicSubnetIds, subnet);
    const privateSubnetIds = p.stringList(`${key}.privateSubnetIds`, n.privateSubnetIds, subnet);
    if (n.vpcId === undefined) p.add(`${key}.vpcId is required when ${key} is set (or remove ${key} to use the default VPC)`);
    if (!publicSubnetIds || publicSubnetIds.length < 2) {
        p.add(`${key}.publicSubnetIds needs at least 2 subnets in different availability zones (an ALB requires two)`);
    }
    if (!privateSubnetIds || privateSubnetIds.length < 1) {
        p.add(`${key}.privateSubnetIds needs at least 1 subnet with a route to ECR (NAT gateway or VPC endpoints)`);
    }
    if (!vpcId || !publicSubnetIds || publicSubnetIds.length < 2 || !privateSubnetIds || privateSubnetIds.length < 1) return undefined;
    return { vpcId, publicSubnetIds, privateSubnetIds };
}

function parseSlots(p: Problems, value: unknown): Record<Color, Slot | undefined> {
    const key = "switchyard:slots";
    const slots: Record<Color, Slot | undefined> = { blue: undefined, green: undefined };
    const s = p.object(key, value, COLORS);
    if (value === undefined || value === null) {
        p.add(`${key} is required: give at least the live colour an image, e.g. ${key}.blue.image: <repo>@sha256:<digest>`);
    }
    if (!s) return slots;
    for (const color of COLORS) {
        slots[color] = parseSlot(p, `${key}.${color}`, s[color]);
    }
    const builds = COLORS.filter((c) => slots[c]?.kind === "build");
    if (builds.length > 1) {
        p.add(`${key}: at most one slot may build (blue and green both set build); pin one to its digest with image`);
    }
    return slots;
}

function parseSlot(p: Problems, key: string, value: unknown): Slot | undefined {
    const s = p.object(key, value, ["image", "build", "schema", "idle"]);
    if (!s) return undefined;
    const schema = parseSchemaSupport(p, `${key}.schema`, s.schema);
    const idle = p.boolean(`${key}.idle`, s.idle) ?? false;
    if (s.image !== undefined && s.build !== undefined) {
        p.add(`${key}: set either image or build, not both`);
        return undefined;
    }
    if (s.image !== undefined) {
        if (typeof s.image === "string" && !s.image.includes("@sha256:")) {
            p.add(
                `${key}.image must be pinned by digest (<repo>@sha256:<64 hex>), got '${s.image}': tags are mutable; ` +
                    `find the digest with: docker buildx imagetools inspect ${s.image}`,
            );
            return undefined;
        }
        const image = p.string(`${key}.image`, s.image, { pattern: DIGEST_PATTERN, hint: "must be <repo>@sha256:<64 lowercase hex>" });
        return image ? { kind: "image", image, schema, idle } : undefined;
    }
    if (s.build !== undefined) {
        const context = p.string(`${key}.build`, s.build);
        return context ? { kind: "build", context, schema, idle } : undefined;
    }
    p.add(`${key}: set either image (a digest-pinned reference) or build (a Docker context), or remove the slot`);
    return undefined;
}

function parseSchemaSupport(p: Problems, key: string, value: unknown): SchemaSupport | undefined {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) {
        const versions = value.map((v, i) => p.int(`${key}[${i}]`, v, { min: 0, max: 1000000 }));
        if (value.length === 0) p.add(`${key} must list at least one schema version (e.g. [3, 4]) or be {min, max}`);
        return versions.every((v): v is number => v !== undefined) && versions.length > 0 ? { versions } : undefined;
    }
    const r = p.object(key, value, ["min", "max"]);
    if (!r) return undefined;
    const min = p.int(`${key}.min`, r.min, { min: 0, max: 1000000 });
    const max = p.int(`${key}.max`, r.max, { min: 0, max: 1000000 });
    if (r.min === undefined || r.max === undefined) p.add(`${key} as a range needs both min and max (e.g. {min: 3, max: 4})`);
    if (min !== undefined && max !== undefined && min > max) p.add(`${key}.min (${min}) must not exceed ${key}.max (${max})`);
    return min !== undefined && max !== undefined && min <= max ? { min, max } : undefined;
}

function parseTraffic(
    p: Problems,
    value: unknown,
    slots: Record<Color, Slot | undefined>,
    strategy: Strategy,
): TrafficSettings | undefined {
    const key = "switchyard:traffic";
    const t = p.object(key, value, ["live", "canary", "routes", "previous"]);
    if (strategy === "rolling") {
        return parseRollingTraffic(p, t, slots);
    }
    if (!t) {
        if (value === undefined || value === null) p.add(`${key}.live is required: the colour that serves production (blue or green)`);
        return undefined;
    }
    const live = p.oneOf(`${key}.live`, t.live, COLORS);
    if (t.live === undefined) p.add(`${key}.live is required: the colour that serves production (blue or green)`);
    const previous = p.oneOf(`${key}.previous`, t.previous, COLORS);
    if (previous !== undefined && previous === live) {
        p.add(`${key}.previous (${previous}) must differ from ${key}.live: it names the colour that was live before the last flip`);
    }
    const canaryRaw = p.object(`${key}.canary`, t.canary, ["percent", "stickiness"]);
    let canary: Canary | undefined;
    if (canaryRaw) {
        const percent = p.int(`${key}.canary.percent`, canaryRaw.percent, { min: 1, max: 99 });
        if (canaryRaw.percent === undefined) p.add(`${key}.canary.percent is required (1..99), or remove ${key}.canary`);
        const stickiness = p.int(`${key}.canary.stickiness`, canaryRaw.stickiness, { min: 1, max: 604800 });
        if (percent !== undefined) canary = { percent, stickiness };
    }
    const routes = parseRoutes(p, t.routes);
    if (!live) return undefined;
    return { live, canary, routes, previous };
}

/** Rolling: one fleet, no candidate; the blue/green keys are refused rather than ignored. */
function parseRollingTraffic(
    p: Problems,
    t: Record<string, unknown> | undefined,
    slots: Record<Color, Slot | undefined>,
): TrafficSettings | undefined {
    const key = "switchyard:traffic";
    const filled = COLORS.filter((c) => slots[c] !== undefined);
    if (filled.length !== 1) {
        p.add(
            `switchyard:slots must fill exactly one colour with strategy rolling (got ${filled.length ? filled.join(" and ") : "none"}); remove the other slot or use strategy blue-green`,
        );
    }
    for (const k of ["canary", "routes", "previous"] as const) {
        if (t?.[k] !== undefined) p.add(`${key}.${k} is a blue-green key and cannot be used with switchyard:strategy rolling; remove it`);
    }
    const live = t ? p.oneOf(`${key}.live`, t.live, COLORS) : undefined;
    if (live && filled.length === 1 && live !== filled[0]) {
        p.add(`${key}.live (${live}) must name the filled slot (${filled[0]}) with strategy rolling`);
    }
    const fleet = live ?? filled[0];
    return fleet ? { live: fleet, routes: [] } : undefined;
}

function parseRoutes(p: Problems, value: unknown): Route[] {
    const key = "switchyard:traffic.routes";
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
        p.add(`${key} must be a list of routes (got ${JSON.stringify(value)})`);
        return [];
    }
    const routes: Route[] = [];
    const priorities = new Map<number, number>();
    value.forEach((item, i) => {
        const rk = `${key}[${i}]`;
        const r = p.object(rk, item, ["color", "priority", "header", "cookie", "sourceIps", "hosts", "query"]);
        if (!r) {
            if (item === undefined || item === null) p.add(`${rk} is empty; give it a color and a condition`);
            return;
        }
        const before = p.count;
        const color = p.oneOf(`${rk}.color`, r.color, COLORS);
        if (r.color === undefined) p.add(`${rk}.color is required (blue or green)`);
        const priority = p.int(`${rk}.priority`, r.priority, { min: 1, max: 50000, default: i + 1 });
        const other = priorities.get(priority);
        if (other !== undefined) p.add(`${rk}.priority ${priority} is already used by ${key}[${other}]; priorities must be unique`);
        priorities.set(priority, i);
        const headerRaw = p.object(`${rk}.header`, r.header, ["name", "values"]);
        let header: HeaderMatch | undefined;
        if (headerRaw) {
            const name = p.string(`${rk}.header.name`, headerRaw.name, {
                pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/,
                hint: "must be an HTTP header name",
            });
            const values = p.stringList(`${rk}.header.values`, headerRaw.values, {
                pattern: /^.{1,128}$/,
                hint: "must be 1-128 characters",
            });
            if (headerRaw.name === undefined) p.add(`${rk}.header.name is required`);
            if (!values || values.length === 0) p.add(`${rk}.header.values must list at least one value`);
            if (name && values && values.length > 0) header = { name, values };
        }
        const cookieRaw = p.object(`${rk}.cookie`, r.cookie, ["name", "value"]);
        let cookie: Route["cookie"];
        if (cookieRaw) {
            const name = p.string(`${rk}.cookie.name`, cookieRaw.name, {
                pattern: /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/,
                hint: "must be a cookie name",
            });
            const cookieValue = p.string(`${rk}.cookie.value`, cookieRaw.value, {
                pattern: /^[^\s;,*?]{1,100}$/,
                hint: "must be 1-100 characters without spaces, ; , * or ?",
            });
            if (cookieRaw.name === undefined || cookieRaw.value === undefined) p.add(`${rk}.cookie needs both name and value`);
            if (name && cookieValue) cookie = { name, value: cookieValue };
        }
        const sourceIps = p.stringList(`${rk}.sourceIps`, r.sourceIps, CIDR);
        const hosts = p.stringList(`${rk}.hosts`, r.hosts, {
            pattern: /^[A-Za-z0-9*?.-]{1,128}$/,
            hint: "must be a host name (wildcards * and ? allowed)",
        });
        let query: Record<string, string> | undefined;
        const queryRaw = p.object(`${rk}.query`, r.query, Object.keys((r.query as object) ?? {}));
        if (queryRaw) {
            query = {};
            for (const [k, v] of Object.entries(queryRaw)) {
                const qv = p.string(`${rk}.query.${k}`, typeof v === "number" ? String(v) : v);
                if (qv) query[k] = qv;
            }
        }
        const valueCount =
            (header?.values.length ?? 0) +
            (cookie ? 1 : 0) +
            (sourceIps?.length ?? 0) +
            (hosts?.length ?? 0) +
            Object.keys(query ?? {}).length;
        const conditionGiven = [r.header, r.cookie, r.sourceIps, r.hosts, r.query].some((c) => c !== undefined);
        if (!conditionGiven) p.add(`${rk} needs at least one condition: header, cookie, sourceIps, hosts or query`);
        else if (valueCount === 0 && p.count === before)
            p.add(`${rk} has conditions with no values; give each condition at least one value`);
        if (valueCount > MAX_ROUTE_VALUES) {
            p.add(`${rk} has ${valueCount} condition values; an ALB rule allows at most ${MAX_ROUTE_VALUES}: split it into several routes`);
        }
        if (p.count === before && color) {
            routes.push(strip({ color, priority, header, cookie, sourceIps, hosts, query }));
        }
    });
    return routes;
}

function parseTestAccess(
    p: Problems,
    value: unknown,
    strategy: Strategy,
    environment: Environment,
): { cidrs: readonly string[]; port: number } {
    const key = "switchyard:testAccess";
    const t = p.object(key, value, ["cidrs", "port"]);
    if (strategy === "rolling") {
        if (t)
            p.add(
                `${key} is a blue-green key (the test listener serves the candidate) and cannot be used with switchyard:strategy rolling; remove it`,
            );
        return { cidrs: [], port: 0 };
    }
    const cidrs = p.stringList(`${key}.cidrs`, t?.cidrs, CIDR) ?? [];
    const port = p.int(`${key}.port`, t?.port, { min: 1, max: 65535, default: 9000 });
    if (port === 80 || port === 443) p.add(`${key}.port ${port} is taken by the production listener; pick another (default 9000)`);
    if (environment === "production") {
        if (cidrs.length === 0) {
            p.add(`${key}.cidrs must list who may reach the test listener in production (e.g. your VPN range 10.0.0.0/8)`);
        }
        for (const open of cidrs.filter((c) => /^0\.0\.0\.0\/0$|^::\/0$/.test(c))) {
            p.add(`${key}.cidrs must not contain ${open} in production: the test listener would be open to the internet`);
        }
    }
    return { cidrs, port };
}

function parseHttps(p: Problems, value: unknown): { certificateArn: string; sslPolicy: string } | undefined {
    const key = "switchyard:https";
    const h = p.object(key, value, ["certificateArn", "sslPolicy"]);
    if (!h) return undefined;
    const certificateArn = p.string(`${key}.certificateArn`, h.certificateArn, {
        pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
        hint: "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
    });
    if (h.certificateArn === undefined) p.add(`${key}.certificateArn is required when ${key} is set`);
    const sslPolicy =
        p.string(`${key}.sslPolicy`, h.sslPolicy, {
            pattern: /^ELBSecurityPolicy-[A-Za-z0-9-]+$/,
            hint: "must be an ELBSecurityPolicy-* name",
        }) ?? "ELBSecurityPolicy-TLS13-1-2-2021-06";
    return certificateArn ? { certificateArn, sslPolicy } : undefined;
}

function parseDatabase(p: Problems, value: unknown): { schema?: number } | undefined {
    const d = p.object("switchyard:database", value, ["schema"]);
    if (!d) return undefined;
    return { schema: p.int("switchyard:database.schema", d.schema, { min: 0, max: 1000000 }) };
}

function parseAlarms(p: Problems, value: unknown): AlarmSettings {
    const key = "switchyard:alarms";
    const a =
        p.object(key, value, [
            "http5xxThreshold",
            "unhealthyHostsThreshold",
            "p99LatencySeconds",
            "evaluationPeriods",
            "snsTopicArn",
            "emails",
        ]) ?? {};
    let p99LatencySeconds = 2;
    if (a.p99LatencySeconds !== undefined) {
        const v = Number(a.p99LatencySeconds);
        if (!Number.isFinite(v) || v <= 0 || v > 60)
            p.add(
                `${key}.p99LatencySeconds must be a number of seconds above 0 and at most 60 (got ${JSON.stringify(a.p99LatencySeconds)})`,
            );
        else p99LatencySeconds = v;
    }
    return {
        http5xxThreshold: p.int(`${key}.http5xxThreshold`, a.http5xxThreshold, { min: 1, max: 1000000, default: 10 }),
        unhealthyHostsThreshold: p.int(`${key}.unhealthyHostsThreshold`, a.unhealthyHostsThreshold, { min: 1, max: 1000, default: 1 }),
        p99LatencySeconds,
        evaluationPeriods: p.int(`${key}.evaluationPeriods`, a.evaluationPeriods, { min: 1, max: 100, default: 3 }),
        snsTopicArn: p.string(`${key}.snsTopicArn`, a.snsTopicArn, {
            pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/,
            hint: "must be an SNS topic ARN",
        }),
        emails: p.stringList(`${key}.emails`, a.emails, { pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/, hint: "must be an email address" }) ?? [],
    };
}

/** Invariant 2: every colour with traffic has a build, runs tasks, and supports the current schema. */
function checkTrafficColors(
    p: Problems,
    cfg: Pick<SwitchyardConfig, "slots" | "traffic" | "database">,
    given: (color: Color) => boolean,
): void {
    const reasons = new Map<Color, string[]>();
    const give = (color: Color, why: string) => reasons.set(color, [...(reasons.get(color) ?? []), why]);
    give(cfg.traffic.live, "live");
    if (cfg.traffic.canary) give(otherColor(cfg.traffic.live), `canary ${cfg.traffic.canary.percent}%`);
    cfg.traffic.routes.forEach((r, i) => give(r.color, `traffic.routes[${i}]`));
    for (const [color, why] of reasons) {
        const slot = cfg.slots[color];
        const because = why.join(", ");
        if (!slot) {
            if (given(color)) continue;
            p.add(
                `switchyard:slots.${color} is empty but ${color} receives traffic (${because}); give it an image or build, or move the traffic`,
            );
            continue;
        }
        if (slot.idle) {
            p.add(
                `switchyard:slots.${color}.idle must not be set: ${color} receives traffic (${because}) and runs service.desiredCount tasks`,
            );
        }
        const schema = cfg.database?.schema;
        if (schema !== undefined && slot.schema && !supportsSchema(slot.schema, schema)) {
            p.add(
                `switchyard:slots.${color}.schema (${formatSchema(slot.schema)}) does not include switchyard:database.schema ${schema}, ` +
                    `but ${color} receives traffic (${because}); deploy a build that supports schema ${schema} or move the traffic`,
            );
        }
    }
    const previous = cfg.traffic.previous;
    if (previous && cfg.slots[previous]?.idle) {
        p.add(
            `switchyard:slots.${previous}.idle must not be set while switchyard:traffic.previous is ${previous}: ` +
                `the colour that was just live stays warm for rollback; run finish in a later update`,
        );
    }
    if (previous && !cfg.slots[previous]) {
        p.add(`switchyard:traffic.previous names ${previous} but switchyard:slots.${previous} is empty; remove traffic.previous`);
    }
}

export function supportsSchema(support: SchemaSupport, version: number): boolean {
    return "versions" in support ? support.versions.includes(version) : version >= support.min && version <= support.max;
}

export function formatSchema(support: SchemaSupport): string {
    return "versions" in support ? `[${support.versions.join(", ")}]` : `${support.min}..${support.max}`;
}

function strip<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
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
