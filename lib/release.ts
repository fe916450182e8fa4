/**
 * Release steps: pure functions from one service's validated configuration (and the command's
 * arguments) to either a refusal or a list of edits of its keys (paths relative to the service:
 * `["traffic", "live"]`). Nothing here reads or writes files; the one writer of stack files
 * (cli/transaction.ts editService) puts the edits below the service's keyPath and validates the
 * whole edited file with parseStack before anything is written.
 *
 * Every step checks its own preconditions so that its edits always yield a valid configuration;
 * `runStep` (plan and the tests, on a single service's raw keys) re-validates with `parseConfig`.
 */
import {
    COLORS,
    Color,
    DIGEST_PATTERN,
    RawConfig,
    Route,
    SchemaSupport,
    Slot,
    SwitchyardConfig,
    formatSchema,
    parseConfig,
    supportsSchema,
} from "./config";
import { repositoryOf } from "./images";
import { MAX_SCHEMA_VERSION } from "./parse/slots";
import { ConfigError } from "./problems";
import { ServiceSpec } from "./stackSpec";
import { candidateColor, productionWeights } from "./traffic";

/** A path below the `switchyard:` prefix: `["slots", "green", "image"]` is `switchyard:slots.green.image`. */
export type EditPath = readonly [string, ...(string | number)[]];

export type Edit =
    | {
          readonly op: "set";
          readonly path: EditPath;
          readonly value: unknown;
          /** A sibling key this one takes the place of (removed; the new key keeps its position and comments). */
          readonly replaces?: string;
          /** Text recorded as a line comment on the value (rolling mode keeps `previous: <digest>` there). */
          readonly note?: string;
          /** Comment lines this edit makes false (`# blue is empty …` once blue holds a build): removed. */
          readonly obsoleteComment?: RegExp;
      }
    | { readonly op: "delete"; readonly path: EditPath };

/**
 * What a step decided. `already`: the file already says what the step would make it say (a step
 * run again after it succeeded), so nothing is written. `badInput`: the refusal is about the
 * command's own arguments (a flag's value), not the state of the release; the CLI exits with its
 * usage code.
 */
export type StepResult =
    | { readonly ok: true; readonly edits: readonly Edit[]; readonly summary: string; readonly already?: true }
    | { readonly ok: false; readonly refusal: string; readonly badInput?: true };

export const refuse = (refusal: string): StepResult => ({ ok: false, refusal });
export const badInput = (refusal: string): StepResult => ({ ok: false, refusal, badInput: true });
export const done = (edits: Edit[], summary: string): StepResult => ({ ok: true, edits, summary });
export const alreadySo = (summary: string): StepResult => ({ ok: true, edits: [], summary, already: true });
const set = (path: EditPath, value: unknown, extra: { replaces?: string; note?: string; obsoleteComment?: RegExp } = {}): Edit => ({
    op: "set",
    path,
    value,
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
});
const del = (path: EditPath): Edit => ({ op: "delete", path });

// ---------------------------------------------------------------------------------------------
// Which service a step runs on (`--service NAME`)
// ---------------------------------------------------------------------------------------------

/**
 * `--stack dev`, or `--stack dev --service api` for a service of the services form: the flags a
 * command printed in a summary needs to edit this service again.
 */
export function stackFlags(cfg: SwitchyardConfig): string {
    const keyPath = (cfg as Partial<ServiceSpec>).keyPath;
    return keyPath && keyPath.length > 0 ? `--stack ${cfg.stack} --service ${cfg.service.name}` : `--stack ${cfg.stack}`;
}

/** A service's edits (paths relative to its keys, `["traffic", "live"]`) as paths of the stack file, below its keyPath. */
export function atKeyPath(keyPath: readonly string[], edits: readonly Edit[]): Edit[] {
    return edits.map((e) => ({ ...e, path: [...keyPath, ...e.path] as unknown as EditPath }));
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the steps and the status view
// ---------------------------------------------------------------------------------------------

/** Why a colour receives production traffic, e.g. `["live"]`, `["canary 10%", "traffic.routes[0]"]`. */
export function trafficReasons(cfg: SwitchyardConfig, color: Color): string[] {
    const reasons: string[] = [];
    if (cfg.traffic.live === color) reasons.push("live");
    const weights = productionWeights(cfg);
    if (cfg.traffic.live !== color && weights[color] > 0) reasons.push(`canary ${weights[color]}%`);
    cfg.traffic.routes.forEach((r, i) => {
        if (r.color === color) reasons.push(`traffic.routes[${i}]`);
    });
    return reasons;
}

/** `web@sha256:0123456789ab` for `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:0123…`. */
export function shortImage(ref: string): string {
    const at = ref.indexOf("@sha256:");
    if (at < 0) return ref;
    const repo = ref.slice(0, at).split("/").pop();
    return `${repo}@sha256:${ref.slice(at + 8, at + 20)}`;
}

export function describeSlot(slot: Slot | undefined): string {
    if (!slot) return "empty";
    return slot.kind === "image" ? shortImage(slot.image) : `build ${slot.context}`;
}

/** The YAML value of a schema support: `[3, 4]` or `{ min: 3, max: 5 }`. */
export function schemaValue(schema: SchemaSupport): unknown {
    return "versions" in schema ? [...schema.versions] : { min: schema.min, max: schema.max };
}

/** Parses `--schema 3,4` (versions) or `--schema 3..5` (an inclusive range). */
export function parseSchemaArg(text: string): SchemaSupport | { error: string } {
    const t = text.trim();
    const tooHigh = (t.match(/\d+/g) ?? []).find((v) => Number(v) > MAX_SCHEMA_VERSION);
    if (tooHigh !== undefined) return { error: `--schema versions must be 0..${MAX_SCHEMA_VERSION} (got ${tooHigh})` };
    const range = /^(\d+)\s*\.\.\s*(\d+)$/.exec(t);
    if (range) {
        const [min, max] = [Number(range[1]), Number(range[2])];
        return min <= max ? { min, max } : { error: `--schema range ${t} is empty: the first version must not exceed the second` };
    }
    if (/^\d+(\s*,\s*\d+)*$/.test(t)) {
        return { versions: [...new Set(t.split(",").map((v) => Number(v.trim())))] };
    }
    return { error: `--schema must be versions such as 3,4 or a range such as 3..5 (got '${text}')` };
}

/** Whether two schema supports admit exactly the same versions. */
function sameSchema(a: SchemaSupport | undefined, b: SchemaSupport | undefined): boolean {
    if (!a || !b) return a === b;
    const versions = (s: SchemaSupport) =>
        "versions" in s ? [...s.versions].sort((x, y) => x - y) : Array.from({ length: s.max - s.min + 1 }, (_, i) => s.min + i);
    return versions(a).join(",") === versions(b).join(",");
}

/**
 * Why `ref` (the value of `flag`) is not a digest-pinned image reference, or undefined when it is.
 * Only sha256 digests are accepted (what ECR and Docker registries produce for image manifests).
 */
export function digestProblem(flag: string, ref: string): string | undefined {
    if (DIGEST_PATTERN.test(ref)) return undefined;
    // e.g. --digest "$(pulumi stack output …)" where pulumi printed nothing
    if (ref.trim() === "") return `${flag} is empty; give a digest-pinned image, <repo>@sha256:<64 hex>`;
    if (ref.includes("@")) return `${flag} ${ref} is not a valid digest reference: use <repo>@sha256:<64 lowercase hex>`;
    return (
        `${flag} ${ref} is a mutable tag; pin it by digest (<repo>@sha256:<64 hex>), ` +
        `e.g. find it with: docker buildx imagetools inspect ${ref}`
    );
}

function schemaProblem(cfg: SwitchyardConfig, color: Color, schema: SchemaSupport | undefined, what: string): string | undefined {
    const db = cfg.database?.schema;
    if (db === undefined || (schema && supportsSchema(schema, db))) return undefined;
    if (!schema) {
        // Invariant 2 with a declared database schema: a build that declares none could need any.
        return (
            `${what} declares no database schema, but switchyard:database.schema is ${db}, so ${color} cannot take traffic ` +
            `(a build that declares nothing may need any schema); declare what it runs against: start it again with ` +
            `--schema ${db} (or the versions it supports)`
        );
    }
    return (
        `${what} supports database schema ${formatSchema(schema)}, which does not include switchyard:database.schema ${db} ` +
        `(${color} would not run against the current database); use a build that supports schema ${db}`
    );
}

function next(cfg: SwitchyardConfig, then: string): string {
    return `Next: pulumi up --stack ${cfg.stack}${then ? `, ${then}` : ""}`;
}

/**
 * The stack-file key of a service's setting, as problems name it: `switchyard:traffic.previous`,
 * or `switchyard:services.api.traffic.previous` for a service of switchyard:services.
 */
export function serviceKey(cfg: SwitchyardConfig, key: string): string {
    const keyPath = (cfg as Partial<ServiceSpec>).keyPath ?? [];
    return `switchyard:${[...keyPath, key].join(".")}`;
}

function rollingRefusal(cfg: SwitchyardConfig, command: string, previousImage?: string): string {
    const base =
        `${command} does not apply to stack ${cfg.stack}: ${serviceKey(cfg, "strategy")} is rolling, so there is one fleet ` +
        `(${cfg.traffic.live}) that ECS updates in batches, with no candidate colour to ` +
        (command === "rollback" ? "flip back to." : "test, canary or flip.");
    if (command !== "rollback") {
        return `${base} Release a new build with: npm run switchyard -- start ${stackFlags(cfg)} --image <repo>@sha256:<digest>`;
    }
    const how = `npm run switchyard -- start ${stackFlags(cfg)} --image`;
    return previousImage
        ? `${base} To roll back, roll the previous build out again: ${how} ${previousImage}`
        : `${base} To roll back, roll the previous build out again: ${how} <previous digest>; ` +
              `no previous digest is recorded in the stack file (start records it as a '# previous:' comment), ` +
              `so find it with: git log -p Pulumi.${cfg.stack}.yaml`;
}

// ---------------------------------------------------------------------------------------------
// The steps
// ---------------------------------------------------------------------------------------------

export interface StartArgs {
    /** A digest-pinned image reference. Exactly one of image or build. */
    readonly image?: string;
    /** A Docker context that `pulumi up` builds and pushes. */
    readonly build?: string;
    /** The build's schema support; undefined keeps the slot's current `schema`, null removes it. */
    readonly schema?: SchemaSupport | null;
    /**
     * The digest the live slot was pushed as, when that slot is a `build`: start pins it, so
     * nothing can rebuild the live colour while the candidate is released.
     */
    readonly liveDigest?: string;
    /** With `build`: the content hash of that context now (lib/images.ts buildContentHash); undefined when unknown. */
    readonly buildHash?: string;
    /** The interface version the new build serves (`provides`); undefined keeps the slot's. */
    readonly provides?: number;
    /** The versions of other services' interfaces it works with (`requires`); undefined keeps the slot's. */
    readonly requires?: Readonly<Record<string, SchemaSupport>>;
}

/**
 * `start`: the new build goes into the candidate slot (warm: `idle` cleared), traffic is
 * unchanged. With the rolling strategy it replaces the single fleet's build. A `--build` whose
 * content hash is the one the live image was built from releases nothing (exit 0, nothing
 * written): Docker builds are not reproducible, so a rebuild would be a new digest for the
 * same content.
 */
export function start(cfg: SwitchyardConfig, args: StartArgs): StepResult {
    if ((args.image === undefined) === (args.build === undefined)) {
        return badInput("give exactly one of --image <repo>@sha256:<digest> or --build <docker context>");
    }
    const imageBad = args.image !== undefined ? digestProblem("--image", args.image) : undefined;
    if (imageBad) return badInput(imageBad);
    if (args.build !== undefined && args.build.trim() === "")
        return badInput("--build needs a Docker context directory, e.g. --build ./app");

    const rolling = cfg.strategy === "rolling";
    const live = cfg.traffic.live;
    const target = rolling ? live : candidateColor(cfg);
    const slot = cfg.slots[target];
    if (!rolling) {
        const reasons = trafficReasons(cfg, target);
        if (reasons.length > 0) {
            // finish refuses while the candidate has traffic; rollback removes it, flip completes the release.
            return refuse(
                `${target} is the candidate but still receives production traffic (${reasons.join(", ")}), so the current ` +
                    `release is not over; end it first, then start again: either undo it with ` +
                    `npm run switchyard -- rollback ${stackFlags(cfg)} (removes the canary and routes), or complete it with ` +
                    `npm run switchyard -- flip ${stackFlags(cfg)}`,
            );
        }
    }
    const unchanged = unchangedBuild(cfg, args);
    if (unchanged) return alreadySo(unchanged);
    const previous = cfg.traffic.previous;
    if (!rolling && previous) {
        return refuse(
            `${previous} was live before the last flip and is kept warm as the rollback target (${serviceKey(cfg, "traffic.previous")}); ` +
                `start would put the new build there and remove the way back. End that release first: ` +
                `npm run switchyard -- finish ${stackFlags(cfg)} (keeps ${live} live, scales ${previous} down), or ` +
                `npm run switchyard -- rollback ${stackFlags(cfg)} (${previous} live again); then start`,
        );
    }
    const liveSlot = cfg.slots[live];
    const pinLive = !rolling && liveSlot?.kind === "build";
    if (pinLive && (args.liveDigest === undefined || !DIGEST_PATTERN.test(args.liveDigest))) {
        const why =
            args.liveDigest === undefined
                ? "no digest was given and the pulumi CLI could not supply it"
                : args.liveDigest.trim() === ""
                  ? "--live-digest is empty"
                  : `--live-digest ${args.liveDigest} is not <repo>@sha256:<64 hex>`;
        const problem =
            `${live} (live) is a build (${liveSlot.context}) and start pins it to its digest first, so the live colour cannot be ` +
            `rebuilt during the release, but ${why}; ` +
            `pass --live-digest <repo>@sha256:<digest> (it is ${live} in: pulumi stack output images --json --stack ${cfg.stack})`;
        return args.liveDigest === undefined ? refuse(problem) : badInput(problem);
    }
    const schema = args.schema === undefined ? slot?.schema : (args.schema ?? undefined);
    const what = args.image !== undefined ? `--image ${shortImage(args.image)}` : `--build ${args.build}`;
    const db = cfg.database?.schema;
    if (db !== undefined && !schema) {
        return badInput(
            `--schema is required: switchyard:database.schema is ${db}, and the new build (${what}) declares no schema versions, ` +
                `so it could never take traffic; give the versions it runs against, e.g. --schema ${db}`,
        );
    }
    const schemaBad = schemaProblem(
        cfg,
        target,
        schema,
        `the new build (${what}${args.schema === undefined && schema ? ", schema kept from the slot" : ""})`,
    );
    if (schemaBad) return refuse(schemaBad);

    const newBuild = args.image !== undefined ? shortImage(args.image) : `build ${args.build}`;
    const schemaNote = schema ? `, schema ${formatSchema(schema)}` : "";
    const sameBuild =
        args.image !== undefined
            ? slot?.kind === "image" && slot.image === args.image
            : slot?.kind === "build" && slot.context === args.build;
    if (slot && sameBuild && !slot.idle && !pinLive && sameSchema(schema, slot.schema)) {
        return alreadySo(
            `${target} (${rolling ? "the only fleet, rolling" : "candidate"}) already holds ${newBuild}${schemaNote}; nothing to change` +
                (args.build !== undefined ? ` (pulumi up builds what ${args.build} holds now)` : ""),
        );
    }

    const base = ["slots", target] as const;
    const edits: Edit[] = [];
    if (pinLive) edits.push(set(["slots", live, "image"], args.liveDigest, { replaces: "build" }));
    // Rolling: the digest being replaced is the rollback target; it stays on the slot as `# previous: <digest>`.
    const note = rolling && slot?.kind === "image" && slot.image !== args.image ? `previous: ${slot.image}` : undefined;
    // A comment saying this slot is empty becomes false with this edit.
    const obsoleteComment = slot ? undefined : new RegExp(`\\b${target} is empty\\b`);
    if (args.image !== undefined) {
        edits.push(set([...base, "image"], args.image, { replaces: "build", note, obsoleteComment }));
    } else {
        edits.push(set([...base, "build"], args.build, { replaces: "image", note, obsoleteComment }));
    }
    // What the slot's old image was built from does not describe the new build.
    if (slot?.kind === "image" && slot.builtFrom && slot.image !== args.image) edits.push(del([...base, "builtFrom"]));
    if (args.schema === null && slot?.schema) edits.push(del([...base, "schema"]));
    if (args.schema) edits.push(set([...base, "schema"], schemaValue(args.schema)));
    // Co-existence declarations (invariant 13) describe a build: given, they replace the slot's.
    if (args.provides !== undefined) edits.push(set([...base, "provides"], args.provides));
    if (args.requires !== undefined)
        edits.push(set([...base, "requires"], Object.fromEntries(Object.entries(args.requires).map(([svc, v]) => [svc, schemaValue(v)]))));
    if (slot?.idle) edits.push(del([...base, "idle"]));

    const was = `was ${describeSlot(slot)}`;
    if (rolling) {
        return done(
            edits,
            `${target} (the only fleet, rolling) now runs ${newBuild}${schemaNote} (${was}); ECS replaces its tasks in batches. ` +
                next(cfg, "then verify; to undo, start the previous digest again"),
        );
    }
    const pinNote = pinLive ? `; ${live} (live) pinned to ${shortImage(args.liveDigest!)}` : "";
    return done(
        edits,
        `${target} (candidate) now holds ${newBuild}${schemaNote} (${was}), warm on the test listener; ` +
            `traffic unchanged (${live} live)${pinNote}. ` +
            next(cfg, `test ${target} on the test listener (port ${cfg.testAccess.port}), then canary or flip`),
    );
}

/**
 * Why `start --build` releases nothing: the context's content hash is the one the live image
 * was built from (its `builtFrom`), or undefined when it differs, is unknown, or names another
 * context.
 */
function unchangedBuild(cfg: SwitchyardConfig, args: StartArgs): string | undefined {
    const live = cfg.traffic.live;
    const slot = cfg.slots[live];
    if (args.build === undefined || args.buildHash === undefined || slot?.kind !== "image" || !slot.builtFrom) return undefined;
    if (slot.builtFrom.hash !== args.buildHash || !sameContext(slot.builtFrom.context, args.build)) return undefined;
    return (
        `${args.build} is unchanged since the live build: ${live} (live) runs ${shortImage(slot.image)}, built from ` +
        `${slot.builtFrom.context} with content hash ${slot.builtFrom.hash}, the hash ${args.build} has now; nothing to release`
    );
}

/** `./app`, `app` and `app/` name one context (both are relative to the stack file's folder). */
function sameContext(a: string, b: string): boolean {
    const norm = (p: string) =>
        p
            .replace(/\\/g, "/")
            .replace(/^(\.\/)+/, "")
            .replace(/\/+$/, "") || ".";
    return norm(a) === norm(b);
}

/** Precondition shared by canary and flip: the candidate holds a new, warm, compatible build. */
function candidateProblem(cfg: SwitchyardConfig, command: string): string | undefined {
    const cand = candidateColor(cfg);
    const slot = cfg.slots[cand];
    if (!slot)
        return `${cand} (the candidate) is empty; put a build there first: npm run switchyard -- start ${stackFlags(cfg)} --image <repo>@sha256:<digest>`;
    if (slot.idle) {
        return `${cand} (the candidate) is idle (scaled down by finish) and cannot take traffic; start a new release there first`;
    }
    if (cfg.traffic.previous === cand) {
        return (
            `${cand} is the colour that was live before the last flip, kept warm for rollback, not a new release; ` +
            `${command === "flip" ? "to return to it use rollback" : "use rollback to return to it"}, or start a new release`
        );
    }
    return schemaProblem(cfg, cand, slot.schema, `${cand} (${describeSlot(slot)})`);
}

export interface CanaryArgs {
    readonly percent: number;
    /**
     * Seconds a client stays on the colour it first got (ALB target-group stickiness); undefined
     * keeps the current setting, null removes it (`--no-stickiness`).
     */
    readonly stickiness?: number | null;
}

/**
 * The canary's stickiness is the forward action's target-group stickiness: "The range is
 * 1-604800 seconds (7 days)" (DurationSeconds in
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupStickinessConfig.html);
 * switchyard:traffic.canary.stickiness is checked against the same range.
 */
export const MAX_STICKINESS_SECONDS = 604800;

/** `canary`: sends `percent` of the default production traffic to the candidate (stickiness kept unless given). */
export function canary(cfg: SwitchyardConfig, args: CanaryArgs): StepResult {
    if (cfg.strategy === "rolling") return refuse(rollingRefusal(cfg, "canary"));
    if (!Number.isInteger(args.percent) || args.percent < 1 || args.percent > 99) {
        return badInput(
            `--percent must be a whole number 1..99 (got ${args.percent}); use flip to send all traffic, rollback to send none`,
        );
    }
    const sticky = args.stickiness;
    if (typeof sticky === "number" && (!Number.isInteger(sticky) || sticky < 1 || sticky > MAX_STICKINESS_SECONDS)) {
        return badInput(
            `--stickiness must be a whole number of seconds 1..${MAX_STICKINESS_SECONDS} (one week, the ALB limit; got ${sticky})`,
        );
    }
    const problem = candidateProblem(cfg, "canary");
    if (problem) return refuse(problem);
    const cand = candidateColor(cfg);
    const current = cfg.traffic.canary;
    const stickiness = sticky === undefined ? current?.stickiness : (sticky ?? undefined);
    const stickyNote = stickiness !== undefined ? `; a client stays on its colour for ${stickiness} s` : "";
    if (current?.percent === args.percent && current.stickiness === stickiness) {
        return alreadySo(
            `${cand} already gets ${args.percent}% of production traffic, ${cfg.traffic.live} ${100 - args.percent}%${stickyNote}`,
        );
    }
    const was = current ? `was ${current.percent}%` : "was 0%";
    const edits = [set(["traffic", "canary", "percent"], args.percent)];
    if (typeof sticky === "number") edits.push(set(["traffic", "canary", "stickiness"], sticky));
    if (sticky === null && current?.stickiness !== undefined) edits.push(del(["traffic", "canary", "stickiness"]));
    const unstuck = sticky === null && current?.stickiness !== undefined ? "; stickiness removed (each request is routed by weight)" : "";
    return done(
        edits,
        `${cand} now gets ${args.percent}% of production traffic (${was}), ${cfg.traffic.live} ${100 - args.percent}%${stickyNote}${unstuck}. ` +
            next(cfg, `watch ${cand}'s alarms; then canary again, flip, or rollback`),
    );
}

/** What pinning a `build` slot to a digest needs besides the digest, all optional. */
export interface PinArgs {
    /** The digest the build was pushed as. */
    readonly digest?: string;
    /** The content hash of the slot's context now (lib/images.ts buildContentHash): recorded as `builtFrom`. */
    readonly buildHash?: string;
    /** The repository the stack's builds push to, when known (the stack output's digest of that colour). */
    readonly buildRepository?: string;
}

/**
 * The edits that pin `color`'s build slot to `args.digest`: `image` in place of `build`, and
 * `builtFrom` (the context and its content hash) when the hash is known. A digest of another
 * repository than the stack's builds push to is refused: it cannot be what this build pushed.
 */
function pinBuild(
    cfg: SwitchyardConfig,
    color: Color,
    slot: Extract<Slot, { kind: "build" }>,
    args: PinArgs & { readonly digest: string },
): { edits: Edit[] } | { refusal: StepResult } {
    const repository = args.buildRepository ?? builtRepository(cfg);
    const given = repositoryOf(args.digest);
    if (repository !== undefined && given !== repository) {
        return {
            refusal: badInput(
                `--digest ${args.digest} is in repository ${given}, but ${color} builds ${slot.context} into ${repository}, so it ` +
                    `cannot be the image this build pushed; pass the digest pulumi up pushed for ${color} ` +
                    `(${color} in: pulumi stack output images --json --stack ${cfg.stack})`,
            ),
        };
    }
    const edits = [set(["slots", color, "image"], args.digest, { replaces: "build" })];
    if (args.buildHash !== undefined) edits.push(set(["slots", color, "builtFrom"], { context: slot.context, hash: args.buildHash }));
    return { edits };
}

/** The repository of an image this stack built (one with `builtFrom`): where its builds push. */
function builtRepository(cfg: SwitchyardConfig): string | undefined {
    for (const color of COLORS) {
        const slot = cfg.slots[color];
        if (slot?.kind === "image" && slot.builtFrom) return repositoryOf(slot.image);
    }
    return undefined;
}

/** The command that removes a route, as the refusals print it. */
function routeRemoveCommand(cfg: SwitchyardConfig, route: Route): string {
    return `npm run switchyard -- route remove ${stackFlags(cfg)} --priority ${route.priority}`;
}

/**
 * `flip`: the candidate becomes live, the canary is removed and `traffic.previous` names the old
 * live colour, which stays warm for rollback. Routes are left as they are; a route to the old
 * live colour is refused (it would keep users on the old build and block finish). A `build`
 * slot is pinned to `digest` as it goes live. Run again after it succeeded (`previous` is the
 * candidate): already so.
 */
export function flip(cfg: SwitchyardConfig, args: PinArgs = {}): StepResult {
    if (cfg.strategy === "rolling") return refuse(rollingRefusal(cfg, "flip"));
    const digestBad = args.digest !== undefined ? digestProblem("--digest", args.digest) : undefined;
    if (digestBad) return badInput(digestBad);
    const cand = candidateColor(cfg);
    const old = cfg.traffic.live;
    if (cfg.traffic.previous === cand) {
        const live = cfg.slots[old];
        if (args.digest !== undefined && live?.kind === "image" && live.image !== args.digest) {
            return refuse(
                `${old} is live already (flipped from ${cand}), pinned to ${shortImage(live.image)}, not --digest ` +
                    `${shortImage(args.digest)}; to release another build: finish or rollback, then start`,
            );
        }
        return alreadySo(
            `${old} is live since the last flip (from ${cand}, which stays warm for rollback)` +
                (live ? `, running ${describeSlot(live)}` : "") +
                `; nothing to change. ${next(cfg, "then verify; later finish")}`,
        );
    }
    const problem = candidateProblem(cfg, "flip");
    if (problem) return refuse(problem);
    const slot = cfg.slots[cand]!;
    const toOld = cfg.traffic.routes.filter((r) => r.color === old);
    if (toOld.length > 0) {
        const named = toOld.map((r) => `traffic.routes[${cfg.traffic.routes.indexOf(r)}] (priority ${r.priority})`).join(", ");
        return refuse(
            `${named} send${toOld.length === 1 ? "s" : ""} requests to ${old}, which would keep serving the old build after the flip ` +
                `(and finish could not scale it down); remove ${toOld.length === 1 ? "it" : "them"} first: ` +
                toOld.map((r) => routeRemoveCommand(cfg, r)).join("; "),
        );
    }
    const edits: Edit[] = [];
    let pinned = "";
    if (slot.kind === "build") {
        if (args.digest === undefined) {
            return refuse(
                `${cand} is a build (${slot.context}) and must be pinned to its digest as it goes live, but no digest was given ` +
                    `and the pulumi CLI could not supply it; pass --digest <repo>@sha256:<digest> ` +
                    `(after pulumi up it is ${cand} in: pulumi stack output images --json --stack ${cfg.stack})`,
            );
        }
        const pin = pinBuild(cfg, cand, slot, { ...args, digest: args.digest });
        if ("refusal" in pin) return pin.refusal;
        edits.push(...pin.edits);
        pinned = `, pinned to ${shortImage(args.digest)}`;
    } else if (args.digest !== undefined && args.digest !== slot.image) {
        return badInput(
            `--digest ${shortImage(args.digest)} does not match ${cand}'s image ${shortImage(slot.image)}; --digest only pins a build slot`,
        );
    }
    edits.push(set(["traffic", "live"], cand));
    if (cfg.traffic.canary) edits.push(del(["traffic", "canary"]));
    edits.push(set(["traffic", "previous"], old));
    const routes = cfg.traffic.routes.length;
    const routeNote =
        routes > 0
            ? `; ${routes} route${routes === 1 ? "" : "s"} to ${cand} left as they are (now redundant; remove them when you like)`
            : "";
    return done(
        edits,
        `${cand} is now live (was ${old})${pinned}; ${old} stays warm for rollback${routeNote}. ` + next(cfg, "then verify; later finish"),
    );
}

export interface RollbackArgs {
    /** Rolling mode: the previous digest recorded in the stack file, quoted in the refusal. */
    readonly rollingPrevious?: string;
}

/**
 * `rollback`: after a flip (`traffic.previous` set) makes the previous colour live again and
 * removes `previous`: the flip reversed, to the last safe routing, so without the canary and
 * without the routes to the colour it rolls back from (those users would stay on the failing
 * build). Otherwise removes the canary and the routes to the candidate, and the live colour
 * stays. With neither, the routing already is the last safe one: already so.
 */
export function rollback(cfg: SwitchyardConfig, args: RollbackArgs = {}): StepResult {
    if (cfg.strategy === "rolling") return refuse(rollingRefusal(cfg, "rollback", args.rollingPrevious));
    const live = cfg.traffic.live;
    const previous = cfg.traffic.previous;
    if (previous) {
        const slot = cfg.slots[previous];
        if (!slot) return refuse(`traffic.previous names ${previous} but its slot is empty; there is nothing to roll back to`);
        const bad = schemaProblem(cfg, previous, slot.schema, `${previous} (${describeSlot(slot)})`);
        if (bad) return refuse(`cannot roll back to ${previous}: ${bad}`);
        const edits: Edit[] = [set(["traffic", "live"], previous), del(["traffic", "previous"])];
        if (cfg.traffic.canary) edits.push(del(["traffic", "canary"]));
        edits.push(...deleteRoutesTo(cfg, live));
        const dropped = cfg.traffic.routes.filter((r) => r.color === live).length;
        const routeNote = dropped > 0 ? `; removed ${dropped} route${dropped === 1 ? "" : "s"} to ${live}` : "";
        return done(
            edits,
            `${previous} is live again (was ${live}); ${live} keeps running for inspection${routeNote}. ` +
                next(cfg, `then verify; later finish (scales ${live} down) or start a fixed build`),
        );
    }
    const cand = candidateColor(cfg);
    const toCandidate = cfg.traffic.routes.filter((r) => r.color === cand).length;
    if (cfg.traffic.canary || toCandidate > 0) {
        const removed = [
            cfg.traffic.canary ? `canary ${cfg.traffic.canary.percent}%` : "",
            toCandidate ? `${toCandidate} route${toCandidate === 1 ? "" : "s"} to ${cand}` : "",
        ].filter(Boolean);
        const edits: Edit[] = [];
        if (cfg.traffic.canary) edits.push(del(["traffic", "canary"]));
        edits.push(...deleteRoutesTo(cfg, cand));
        return done(
            edits,
            `removed ${removed.join(" and ")}; ${live} serves all production traffic; ${cand} keeps running. ` +
                next(cfg, "then start a fixed build, or finish to scale the candidate down"),
        );
    }
    return alreadySo(
        `nothing to roll back: ${live} (live) already gets all production traffic (no canary, no route to ${cand}, ` +
            `and no flip to undo since the last rollback or finish)`,
    );
}

/** Deletes every route to `color`: the whole list when that is all of it, else one by one from the last. */
function deleteRoutesTo(cfg: SwitchyardConfig, color: Color): Edit[] {
    const routes = cfg.traffic.routes;
    const dropped = routes.filter((r) => r.color === color).length;
    if (dropped === 0) return [];
    if (dropped === routes.length) return [del(["traffic", "routes"])];
    const edits: Edit[] = [];
    // From the last one down, so each index still names the route it did.
    for (let i = routes.length - 1; i >= 0; i--) {
        if (routes[i].color === color) edits.push(del(["traffic", "routes", i]));
    }
    return edits;
}

/** `finish`: the non-live colour is scaled to `service.idleCount` (`idle: true`) and `previous` removed. */
export function finish(cfg: SwitchyardConfig): StepResult {
    if (cfg.strategy === "rolling") return refuse(rollingRefusal(cfg, "finish"));
    const old = candidateColor(cfg);
    const slot = cfg.slots[old];
    const reasons = trafficReasons(cfg, old);
    if (reasons.length > 0) {
        return refuse(`${old} still receives production traffic (${reasons.join(", ")}); flip or rollback before finish`);
    }
    if (!slot) return alreadySo(`nothing to finish: ${old} is empty, so there is no old colour to scale down`);
    if (slot.idle) return alreadySo(`nothing to finish: ${old} is already idle (${cfg.service.idleCount} tasks)`);
    const edits: Edit[] = [set(["slots", old, "idle"], true)];
    if (cfg.traffic.previous) edits.push(del(["traffic", "previous"]));
    const why = cfg.traffic.previous ? "kept warm since the flip" : "not live";
    return done(
        edits,
        `${old} (${describeSlot(slot)}, ${why}) is scaled down to ${cfg.service.idleCount} tasks (idle)` +
            `${cfg.traffic.previous ? "; it is no longer a rollback target" : ""}. ` +
            (cfg.service.autoscaling
                ? // Autoscaling changed the task count outside Pulumi's state (desiredCount is ignored while
                  // autoscaled); without a refresh the state may already say idleCount and nothing scales down.
                  `Next: pulumi up --refresh --stack ${cfg.stack}, then start the next release when ready`
                : next(cfg, "then start the next release when ready")),
    );
}

/**
 * `pin`: the live slot, when it is a `build`, is pinned to the digest it runs (`image:` replaces
 * `build:`; its schema and comments stay; `builtFrom` records the context's content hash when it
 * is known); nothing else changes. Already pinned to that digest: already so.
 */
export function pin(cfg: SwitchyardConfig, args: PinArgs = {}): StepResult {
    const live = cfg.traffic.live;
    const slot = cfg.slots[live];
    const digestBad = args.digest !== undefined ? digestProblem("--digest", args.digest) : undefined;
    if (digestBad) return badInput(digestBad);
    if (!slot) return refuse(`${live} (live) is empty; there is nothing to pin`);
    if (slot.kind === "image") {
        if (args.digest !== undefined && args.digest !== slot.image) {
            return refuse(
                `${live} (live) is already pinned to ${shortImage(slot.image)}, not ${shortImage(args.digest)}; pin only pins a build slot ` +
                    `(to release another image: npm run switchyard -- start ${stackFlags(cfg)} --image ${args.digest})`,
            );
        }
        return alreadySo(`${live} (live) is already pinned to ${shortImage(slot.image)}; nothing to do`);
    }
    if (args.digest === undefined) {
        return refuse(
            `${live} (live) is a build (${slot.context}) and pin needs the digest it runs, but no digest was given and the pulumi CLI ` +
                `could not supply it; pass --digest <repo>@sha256:<digest> (it is ${live} in: pulumi stack output images --json --stack ${cfg.stack})`,
        );
    }
    const pinned = pinBuild(cfg, live, slot, { ...args, digest: args.digest });
    if ("refusal" in pinned) return pinned.refusal;
    const builtFrom = args.buildHash !== undefined ? `, built from ${slot.context} (content hash ${args.buildHash})` : "";
    return done(
        pinned.edits,
        `${live} (live) pinned to ${shortImage(args.digest)}${builtFrom} (was build ${slot.context}); nothing else changed. ` +
            next(cfg, "nothing rebuilds the live colour any more"),
    );
}

/**
 * `promote`: the digest (and its schema support) live in `source` goes into the candidate slot of
 * `target`, like `start --image`; the target's traffic is unchanged. A target that declares its
 * database schema needs the build's declaration: the source's, or `schema` (`--schema`) when
 * the source has none.
 */
export function promote(source: SwitchyardConfig, target: SwitchyardConfig, args: { readonly schema?: SchemaSupport } = {}): StepResult {
    const live = source.traffic.live;
    const slot = source.slots[live];
    if (!slot) return refuse(`${source.stack} has no build in its live slot ${live}; nothing to promote`);
    if (slot.kind !== "image") {
        return refuse(
            `${source.stack}'s live slot ${live} is a build (${slot.context}), not pinned to a digest, so there is nothing immutable to promote; ` +
                `pin it to the digest it runs first (nothing else changes): npm run switchyard -- pin ${stackFlags(source)} ` +
                `(the digest comes from pulumi stack output images; without the pulumi CLI add --digest <repo>@sha256:<digest>)`,
        );
    }
    if (args.schema && slot.schema && !sameSchema(args.schema, slot.schema)) {
        return badInput(
            `--schema ${formatSchema(args.schema)} contradicts what ${source.stack} declares for this build (schema ` +
                `${formatSchema(slot.schema)}); leave --schema out and promote carries the declaration`,
        );
    }
    const schema = slot.schema ?? args.schema;
    const db = target.database?.schema;
    if (db !== undefined && !schema) {
        return badInput(
            `cannot promote ${shortImage(slot.image)} from ${source.stack} to ${target.stack}: ${target.stack} declares ` +
                `switchyard:database.schema ${db}, and the build declares no schema versions in ${source.stack}; say what it runs ` +
                `against with --schema (e.g. --schema ${db}), or declare it in ${source.stack}'s slot first`,
        );
    }
    const result = start(target, { image: slot.image, schema: schema ?? null });
    if (!result.ok) {
        const refusal = `cannot promote ${shortImage(slot.image)} from ${source.stack} to ${target.stack}: ${result.refusal}`;
        return result.badInput ? badInput(refusal) : refuse(refusal);
    }
    const summary = `from ${source.stack} (live ${live}): ${result.summary}`;
    return result.already ? alreadySo(summary) : done([...result.edits], summary);
}

// ---------------------------------------------------------------------------------------------
// Applying and re-validating
// ---------------------------------------------------------------------------------------------

/** Applies edits to plain raw values (keys without the `switchyard:` prefix); the input is not mutated. */
export function applyEdits(raw: RawConfig, edits: readonly Edit[]): Record<string, unknown> {
    const out = structuredClone(raw) as Record<string, unknown>;
    for (const edit of edits) {
        const parentPath = edit.path.slice(0, -1);
        const key = edit.path[edit.path.length - 1];
        if (edit.op === "delete") {
            const parent = getIn(out, parentPath);
            if (parent && typeof parent === "object") {
                if (Array.isArray(parent)) parent.splice(Number(key), 1);
                else delete (parent as Record<string | number, unknown>)[key];
            }
            continue;
        }
        let node: Record<string | number, unknown> = out;
        for (const k of parentPath) {
            const child = node[k];
            if (child === undefined || child === null || typeof child !== "object") node[k] = {};
            node = node[k] as Record<string | number, unknown>;
        }
        if (edit.replaces !== undefined) delete node[edit.replaces];
        node[key] = structuredClone(edit.value);
    }
    return out;
}

function getIn(o: unknown, path: readonly (string | number)[]): unknown {
    return path.reduce<unknown>(
        (node, k) => (node && typeof node === "object" ? (node as Record<string | number, unknown>)[k] : undefined),
        o,
    );
}

export type Outcome =
    | {
          readonly ok: true;
          readonly edits: readonly Edit[];
          readonly summary: string;
          readonly raw: Record<string, unknown>;
          readonly config: SwitchyardConfig;
          readonly already?: true;
      }
    | { readonly ok: false; readonly refusal: string; readonly badInput?: true };

/** Validates the current raw config, runs a step, applies its edits and re-validates the result. */
export function runStep(raw: RawConfig, stack: string, step: (cfg: SwitchyardConfig) => StepResult): Outcome {
    let cfg: SwitchyardConfig;
    try {
        cfg = parseConfig(raw, stack);
    } catch (e) {
        if (e instanceof ConfigError)
            // Bad input (exit 2): the file, not the release, is what needs fixing.
            return { ok: false, refusal: `Pulumi.${stack}.yaml is not valid as it stands; fix it first:\n${listed(e)}`, badInput: true };
        throw e;
    }
    const result = step(cfg);
    if (!result.ok) return result;
    return validateEdits(raw, stack, result);
}

/** Re-validates a step's edits on top of `raw` with parseConfig. */
export function validateEdits(raw: RawConfig, stack: string, result: { edits: readonly Edit[]; summary: string; already?: true }): Outcome {
    const next = applyEdits(raw, result.edits);
    try {
        const config = parseConfig(next, stack);
        return { ok: true, edits: result.edits, summary: result.summary, raw: next, config, ...(result.already ? { already: true } : {}) };
    } catch (e) {
        if (e instanceof ConfigError)
            return { ok: false, refusal: `the change would make Pulumi.${stack}.yaml invalid, so nothing was written:\n${listed(e)}` };
        throw e;
    }
}

/** A ConfigError's problems, one indented line each (without its own `switchyard:` heading). */
export function listed(e: ConfigError): string {
    return e.problems.map((p) => `  - ${p}`).join("\n");
}
