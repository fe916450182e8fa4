/**
 * The stack-configuration model: the types every part of switchyard shares, and the small pure
 * facts about them (colours, schema support). Parsing lives in lib/parse/, behind lib/config.ts.
 */
export const COLORS = ["blue", "green"] as const;

export type Color = (typeof COLORS)[number];

export const STRATEGIES = ["blue-green", "rolling"] as const;

export type Strategy = (typeof STRATEGIES)[number];

export const ENVIRONMENTS = ["development", "production"] as const;

export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * The versions a slot's image works with: of the database schema (`schema`), or of another
 * service's interface (`requires`). A list, or a range with both ends included.
 */
export type SchemaSupport = { readonly versions: readonly number[] } | { readonly min: number; readonly max: number };

/** `requires`: for each service a build calls, the versions of its interface (`provides`) it works with. */
export type Requirements = Readonly<Record<string, SchemaSupport>>;

/** What a slot's image says about other services (invariant 13, lib/coexistence.ts); each only when declared. */
export interface Interfaces {
    /** The version of the interface this build serves to the services that call it. */
    readonly provides?: number;
    readonly requires?: Requirements;
}

/**
 * Where a pinned image was built from: the Docker context and the content hash its image tag
 * carries (lib/images.ts buildContentHash), recorded when flip or pin pins a `build` slot, so
 * `start --build` can tell an unchanged context from a new build.
 */
export interface BuiltFrom {
    readonly context: string;
    readonly hash: string;
}

/** A filled slot: a digest-pinned image, or a Docker context that `pulumi up` builds and pushes. */
export type Slot = (
    | {
          readonly kind: "image";
          readonly image: string;
          readonly schema?: SchemaSupport;
          readonly idle: boolean;
          /** Set only on an image pinned from a build of this stack. */
          readonly builtFrom?: BuiltFrom;
      }
    | { readonly kind: "build"; readonly context: string; readonly schema?: SchemaSupport; readonly idle: boolean }
) &
    Interfaces;

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

/** One step of `switchyard:rollout.steps`: what the release tool does, and how long it watches after. */
export type RolloutStep =
    | { readonly kind: "canary"; readonly percent: number; readonly bakeSeconds: number }
    | { readonly kind: "pause" }
    | { readonly kind: "flip"; readonly bakeSeconds: number }
    | { readonly kind: "finish" };

/** What "healthy" means while `rollout` bakes a step (`switchyard:rollout.analysis`). */
export interface AnalysisSettings {
    readonly intervalSeconds: number;
    /** None of the watched colour's alarms may be in ALARM. */
    readonly alarms: boolean;
    /** Rates are judged only once the watched colour has served this many requests in the bake. */
    readonly minRequests: number;
    readonly maxErrorRatePercent: number;
    readonly maxErrorRateRatio: number;
    readonly maxP99LatencyRatio: number;
}

/** `switchyard:trains.<name>`: services released together, one edit and one `pulumi up` per step. */
export interface Train {
    readonly name: string;
    /** In release order: a service after those it requires. */
    readonly services: readonly string[];
    /** The shape of `switchyard:rollout.steps`; its default when not given. */
    readonly steps: readonly RolloutStep[];
}

export interface RolloutSettings {
    readonly steps: readonly RolloutStep[];
    readonly analysis: AnalysisSettings;
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
    /** `keepImages`: an opt-in count rule; without it the lifecycle policy expires only untagged images. */
    readonly registry: { readonly keepImages?: number };
    /** The steps `rollout` walks and its analysis; defaults when `switchyard:rollout` is absent. */
    readonly rollout: RolloutSettings;
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
    "rollout",
    "services",
    "loadBalancer",
    "trains",
] as const;

export const DIGEST_PATTERN = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/;

export function otherColor(color: Color): Color {
    return color === "blue" ? "green" : "blue";
}

/** Environment when `switchyard:environment` is not set: stacks named prod/production are production. */
export function defaultEnvironment(stack: string): Environment {
    return stack === "prod" || stack === "production" ? "production" : "development";
}

export function supportsSchema(support: SchemaSupport, version: number): boolean {
    return "versions" in support ? support.versions.includes(version) : version >= support.min && version <= support.max;
}

export function formatSchema(support: SchemaSupport): string {
    return "versions" in support ? `[${support.versions.join(", ")}]` : `${support.min}..${support.max}`;
}
