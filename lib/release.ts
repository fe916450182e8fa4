/**
 * Release steps: pure functions from a validated stack configuration (and the command's
 * arguments) to either a refusal or a list of edits of the `switchyard:*` keys. Nothing here reads
 * or writes files; the release tool (cli/) applies the edits to `Pulumi.<stack>.yaml`.
 *
 * Every step checks its own preconditions so that its edits always yield a valid configuration;
 * `runStep` re-validates the result with `parseConfig` all the same before anything is written.
 */
import {
    Color,
    DIGEST_PATTERN,
    RawConfig,
    SchemaSupport,
    Slot,
    SwitchyardConfig,
    formatSchema,
    parseConfig,
    supportsSchema,
} from "./config";
import { ConfigError } from "./problems";
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

export type StepResult =
    { readonly ok: true; readonly edits: readonly Edit[]; readonly summary: string } | { readonly ok: false; readonly refusal: string };

const refuse = (refusal: string): StepResult => ({ ok: false, refusal });
const done = (edits: Edit[], summary: string): StepResult => ({ ok: true, edits, summary });
const set = (path: EditPath, value: unknown, extra: { replaces?: string; note?: string; obsoleteComment?: RegExp } = {}): Edit => ({
    op: "set",
    path,
    value,
    ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
});
const del = (path: EditPath): Edit => ({ op: "delete", path });

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
    if (db === undefined || !schema || supportsSchema(schema, db)) return undefined;
    return (
        `${what} supports database schema ${formatSchema(schema)}, which does not include switchyard:database.schema ${db} ` +
        `(${color} would not run against the current database); use a build that supports schema ${db}`
    );
}

function next(cfg: SwitchyardConfig, then: string): string {
    return `Next: pulumi up --stack ${cfg.stack}${then ? `, ${then}` : ""}`;
}

function rollingRefusal(cfg: SwitchyardConfig, command: string, previousImage?: string): string {
    const base =
        `${command} does not apply to stack ${cfg.stack}: switchyard:strategy is rolling, so there is one fleet ` +
        `(${cfg.traffic.live}) that ECS updates in batches, with no candidate colour to ` +
        (command === "rollback" ? "flip back to." : "test, canary or flip.");
    if (command !== "rollback") {
        return `${base} Release a new build with: npm run switchyard -- start --stack ${cfg.stack} --image <repo>@sha256:<digest>`;
    }
    const how = `npm run switchyard -- start --stack ${cfg.stack} --image`;
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
}

/**
 * `start`: the new build goes into the candidate slot (warm: `idle` cleared), `traffic.previous` is
 * cleared, traffic is unchanged. With the rolling strategy it replaces the single fleet's build.
 */
export function start(cfg: SwitchyardConfig, args: StartArgs): StepResult {
    if ((args.image === undefined) === (args.build === undefined)) {
        return refuse("give exactly one of --image <repo>@sha256:<digest> or --build <docker context>");
    }
    const imageBad = args.image !== undefined ? digestProblem("--image", args.image) : undefined;
    if (imageBad) return refuse(imageBad);
    if (args.build !== undefined && args.build.trim() === "") return refuse("--build needs a Docker context directory, e.g. --build ./app");

    const rolling = cfg.strategy === "rolling";
    const target = rolling ? cfg.traffic.live : candidateColor(cfg);
    const slot = cfg.slots[target];
    if (!rolling) {
        const reasons = trafficReasons(cfg, target);
        if (reasons.length > 0) {
            // finish refuses while the candidate has traffic; rollback removes it, flip completes the release.
            return refuse(
                `${target} is the candidate but still receives production traffic (${reasons.join(", ")}), so the current ` +
                    `release is not over; end it first, then start again: either undo it with ` +
                    `npm run switchyard -- rollback --stack ${cfg.stack} (removes the canary and routes), or complete it with ` +
                    `npm run switchyard -- flip --stack ${cfg.stack}`,
            );
        }
    }
    const live = cfg.slots[cfg.traffic.live];
    const pinLive = !rolling && live?.kind === "build";
    if (pinLive && (args.liveDigest === undefined || !DIGEST_PATTERN.test(args.liveDigest))) {
        return refuse(
            `${cfg.traffic.live} (live) is a build (${live.context}) and start pins it to its digest first, so the live colour cannot be ` +
                `rebuilt during the release, but ${args.liveDigest === undefined ? "no digest was given and the pulumi CLI could not supply it" : args.liveDigest.trim() === "" ? "--live-digest is empty" : `--live-digest ${args.liveDigest} is not <repo>@sha256:<64 hex>`}; ` +
                `pass --live-digest <repo>@sha256:<digest> (it is ${cfg.traffic.live} in: pulumi stack output images --json --stack ${cfg.stack})`,
        );
    }
    const schema = args.schema === undefined ? slot?.schema : (args.schema ?? undefined);
    const what = args.image !== undefined ? `--image ${shortImage(args.image)}` : `--build ${args.build}`;
    const schemaBad = schemaProblem(
        cfg,
        target,
        schema,
        `the new build (${what}${args.schema === undefined && schema ? ", schema kept from the slot" : ""})`,
    );
    if (schemaBad) return refuse(schemaBad);

    const base = ["slots", target] as const;
    const edits: Edit[] = [];
    if (pinLive) edits.push(set(["slots", cfg.traffic.live, "image"], args.liveDigest, { replaces: "build" }));
    // Rolling: the digest being replaced is the rollback target; it stays on the slot as `# previous: <digest>`.
    const note = rolling && slot?.kind === "image" && slot.image !== args.image ? `previous: ${slot.image}` : undefined;
    // A comment saying this slot is empty becomes false with this edit.
    const obsoleteComment = slot ? undefined : new RegExp(`\\b${target} is empty\\b`);
    if (args.image !== undefined) {
        edits.push(set([...base, "image"], args.image, { replaces: "build", note, obsoleteComment }));
    } else {
        edits.push(set([...base, "build"], args.build, { replaces: "image", note, obsoleteComment }));
    }
    if (args.schema === null && slot?.schema) edits.push(del([...base, "schema"]));
    if (args.schema) edits.push(set([...base, "schema"], schemaValue(args.schema)));
    if (slot?.idle) edits.push(del([...base, "idle"]));
    if (!rolling && cfg.traffic.previous) edits.push(del(["traffic", "previous"]));

    const newBuild = args.image !== undefined ? shortImage(args.image) : `build ${args.build}`;
    const was = `was ${describeSlot(slot)}`;
    const schemaNote = schema ? `, schema ${formatSchema(schema)}` : "";
    if (rolling) {
        return done(
            edits,
            `${target} (the only fleet, rolling) now runs ${newBuild}${schemaNote} (${was}); ECS replaces its tasks in batches. ` +
                next(cfg, "then verify; to undo, start the previous digest again"),
        );
    }
    const previousNote =
        (cfg.traffic.previous ? `; ${cfg.traffic.previous} is no longer kept for rollback (new release cycle)` : "") +
        (pinLive ? `; ${cfg.traffic.live} (live) pinned to ${shortImage(args.liveDigest!)}` : "");
    return done(
        edits,
        `${target} (candidate) now holds ${newBuild}${schemaNote} (${was}), warm on the test listener; ` +
            `traffic unchanged (${cfg.traffic.live} live)${previousNote}. ` +
            next(cfg, `test ${target} on the test listener (port ${cfg.testAccess.port}), then canary or flip`),
    );
}

/** Precondition shared by canary and flip: the candidate holds a new, warm, compatible build. */
function candidateProblem(cfg: SwitchyardConfig, command: string): string | undefined {
    const cand = candidateColor(cfg);
    const slot = cfg.slots[cand];
    if (!slot)
        return `${cand} (the candidate) is empty; put a build there first: npm run switchyard -- start --stack ${cfg.stack} --image <repo>@sha256:<digest>`;
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
    /** Seconds a client stays on the colour it first got (ALB target-group stickiness); undefined keeps the current setting. */
    readonly stickiness?: number;
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
        return refuse(`--percent must be a whole number 1..99 (got ${args.percent}); use flip to send all traffic, rollback to send none`);
    }
    const sticky = args.stickiness;
    if (sticky !== undefined && (!Number.isInteger(sticky) || sticky < 1 || sticky > MAX_STICKINESS_SECONDS)) {
        return refuse(
            `--stickiness must be a whole number of seconds 1..${MAX_STICKINESS_SECONDS} (one week, the ALB limit; got ${sticky})`,
        );
    }
    const problem = candidateProblem(cfg, "canary");
    if (problem) return refuse(problem);
    const cand = candidateColor(cfg);
    const was = cfg.traffic.canary ? `was ${cfg.traffic.canary.percent}%` : "was 0%";
    const edits = [set(["traffic", "canary", "percent"], args.percent)];
    if (sticky !== undefined) edits.push(set(["traffic", "canary", "stickiness"], sticky));
    const stickyNote = sticky !== undefined ? `; a client stays on its colour for ${sticky} s` : "";
    return done(
        edits,
        `${cand} now gets ${args.percent}% of production traffic (${was}), ${cfg.traffic.live} ${100 - args.percent}%${stickyNote}. ` +
            next(cfg, `watch ${cand}'s alarms; then canary again, flip, or rollback`),
    );
}

/**
 * `flip`: the candidate becomes live, the canary is removed and `traffic.previous` names the old
 * live colour, which stays warm for rollback. Routes are left as they are; a route to the old
 * live colour is refused (it would keep users on the old build and block finish). A `build`
 * slot is pinned to `digest` as it goes live.
 */
export function flip(cfg: SwitchyardConfig, args: { readonly digest?: string } = {}): StepResult {
    if (cfg.strategy === "rolling") return refuse(rollingRefusal(cfg, "flip"));
    const problem = candidateProblem(cfg, "flip");
    if (problem) return refuse(problem);
    const cand = candidateColor(cfg);
    const old = cfg.traffic.live;
    const slot = cfg.slots[cand]!;
    const toOld = cfg.traffic.routes.map((r, i) => (r.color === old ? `traffic.routes[${i}]` : "")).filter(Boolean);
    if (toOld.length > 0) {
        return refuse(
            `${toOld.join(", ")} send${toOld.length === 1 ? "s" : ""} requests to ${old}, which would keep serving the old build after the flip ` +
                `(and finish could not scale it down); remove ${toOld.length === 1 ? "that route" : "those routes"} from Pulumi.${cfg.stack}.yaml first`,
        );
    }
    const digestBad = args.digest !== undefined ? digestProblem("--digest", args.digest) : undefined;
    if (digestBad) return refuse(digestBad);
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
        edits.push(set(["slots", cand, "image"], args.digest, { replaces: "build" }));
        pinned = `, pinned to ${shortImage(args.digest)}`;
    } else if (args.digest !== undefined && args.digest !== slot.image) {
        return refuse(
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
 * build). Otherwise removes the canary and every route, and the live colour stays.
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
        const routes = cfg.traffic.routes;
        const dropped = routes.filter((r) => r.color === live).length;
        if (dropped > 0 && dropped === routes.length) edits.push(del(["traffic", "routes"]));
        else if (dropped > 0) {
            // From the last one down, so each index still names the route it did.
            for (let i = routes.length - 1; i >= 0; i--) if (routes[i].color === live) edits.push(del(["traffic", "routes", i]));
        }
        const routeNote = dropped > 0 ? `; removed ${dropped} route${dropped === 1 ? "" : "s"} to ${live}` : "";
        return done(
            edits,
            `${previous} is live again (was ${live}); ${live} keeps running for inspection${routeNote}. ` +
                next(cfg, `then verify; later finish (scales ${live} down) or start a fixed build`),
        );
    }
    if (cfg.traffic.canary || cfg.traffic.routes.length > 0) {
        const removed = [
            cfg.traffic.canary ? `canary ${cfg.traffic.canary.percent}%` : "",
            cfg.traffic.routes.length ? `${cfg.traffic.routes.length} route${cfg.traffic.routes.length === 1 ? "" : "s"}` : "",
        ].filter(Boolean);
        const edits: Edit[] = [];
        if (cfg.traffic.canary) edits.push(del(["traffic", "canary"]));
        if (cfg.traffic.routes.length > 0) edits.push(del(["traffic", "routes"]));
        return done(
            edits,
            `removed ${removed.join(" and ")}; ${live} serves all production traffic; ${candidateColor(cfg)} keeps running. ` +
                next(cfg, "then start a fixed build, or finish to scale the candidate down"),
        );
    }
    return refuse(
        "nothing to roll back: no canary, no routes, and no previous live colour to return to (no flip since the last rollback or finish)",
    );
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
    if (!slot) return refuse(`nothing to finish: ${old} is empty, so there is no old colour to scale down`);
    if (slot.idle) return refuse(`nothing to finish: ${old} is already idle (${cfg.service.idleCount} tasks)`);
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
 * `build:`; its schema and comments stay); nothing else changes. Already pinned to that digest:
 * no change.
 */
export function pin(cfg: SwitchyardConfig, args: { readonly digest?: string } = {}): StepResult {
    const live = cfg.traffic.live;
    const slot = cfg.slots[live];
    if (!slot) return refuse(`${live} (live) is empty; there is nothing to pin`);
    const digestBad = args.digest !== undefined ? digestProblem("--digest", args.digest) : undefined;
    if (digestBad) return refuse(digestBad);
    if (slot.kind === "image") {
        if (args.digest !== undefined && args.digest !== slot.image) {
            return refuse(
                `${live} (live) is already pinned to ${shortImage(slot.image)}, not ${shortImage(args.digest)}; pin only pins a build slot ` +
                    `(to release another image: npm run switchyard -- start --stack ${cfg.stack} --image ${args.digest})`,
            );
        }
        return done([], `${live} (live) is already pinned to ${shortImage(slot.image)}; nothing to do`);
    }
    if (args.digest === undefined) {
        return refuse(
            `${live} (live) is a build (${slot.context}) and pin needs the digest it runs, but no digest was given and the pulumi CLI ` +
                `could not supply it; pass --digest <repo>@sha256:<digest> (it is ${live} in: pulumi stack output images --json --stack ${cfg.stack})`,
        );
    }
    return done(
        [set(["slots", live, "image"], args.digest, { replaces: "build" })],
        `${live} (live) pinned to ${shortImage(args.digest)} (was build ${slot.context}); nothing else changed. ` +
            next(cfg, "the same image keeps running and nothing rebuilds it any more"),
    );
}

/**
 * `promote`: the digest (and its schema support) live in `source` goes into the candidate slot of
 * `target`, like `start --image`; the target's traffic is unchanged.
 */
export function promote(source: SwitchyardConfig, target: SwitchyardConfig): StepResult {
    const live = source.traffic.live;
    const slot = source.slots[live];
    if (!slot) return refuse(`${source.stack} has no build in its live slot ${live}; nothing to promote`);
    if (slot.kind !== "image") {
        return refuse(
            `${source.stack}'s live slot ${live} is a build (${slot.context}), not pinned to a digest, so there is nothing immutable to promote; ` +
                `pin it to the digest it runs first (nothing else changes): npm run switchyard -- pin --stack ${source.stack} ` +
                `(the digest comes from pulumi stack output images; without the pulumi CLI add --digest <repo>@sha256:<digest>)`,
        );
    }
    const result = start(target, { image: slot.image, schema: slot.schema ?? null });
    if (!result.ok) return refuse(`cannot promote ${shortImage(slot.image)} from ${source.stack} to ${target.stack}: ${result.refusal}`);
    return done([...result.edits], `from ${source.stack} (live ${live}): ${result.summary}`);
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
      }
    | { readonly ok: false; readonly refusal: string };

/** Validates the current raw config, runs a step, applies its edits and re-validates the result. */
export function runStep(raw: RawConfig, stack: string, step: (cfg: SwitchyardConfig) => StepResult): Outcome {
    let cfg: SwitchyardConfig;
    try {
        cfg = parseConfig(raw, stack);
    } catch (e) {
        if (e instanceof ConfigError)
            return { ok: false, refusal: `Pulumi.${stack}.yaml is not valid as it stands; fix it first:\n${listed(e)}` };
        throw e;
    }
    const result = step(cfg);
    if (!result.ok) return result;
    return validateEdits(raw, stack, result);
}

/** Re-validates a step's edits on top of `raw` with parseConfig. */
export function validateEdits(raw: RawConfig, stack: string, result: { edits: readonly Edit[]; summary: string }): Outcome {
    const next = applyEdits(raw, result.edits);
    try {
        return { ok: true, edits: result.edits, summary: result.summary, raw: next, config: parseConfig(next, stack) };
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
