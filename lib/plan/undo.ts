/**
 * The release-tool command that returns a stack file exactly to its base after a planned change,
 * or null with the reason when no command does (then: git revert). Found by running the release
 * steps themselves (lib/release.ts, lib/routes.ts) on the changed file: one step, then two, then
 * three, each built from what the base says (its canary, its builds, its routes); the first whose
 * result is the base's configuration is the undo. So the printed command is right by construction, also for a change
 * that combines several steps, and never merely the nearest step. Pure.
 */
import { Color, RawConfig, Route, SchemaSupport, SwitchyardConfig } from "../model";
import * as release from "../release";
import { describeSlot } from "../release";
import { routeAdd, routeRemove } from "../routes";
import { diffPaths } from "./diff";
import { summarizeTraffic } from "./traffic";
import { sameJson } from "../json";

export interface Undo {
    /** A command that works as printed, or null. */
    readonly command: string | null;
    readonly note: string;
}

/** One side of the change: the stack file's whole `config:` map and its validated switchyard model. */
export interface UndoSide {
    readonly config: SwitchyardConfig;
    readonly file: Readonly<Record<string, unknown>>;
}

interface Step {
    /** The command's arguments, e.g. `canary --percent 10`. */
    readonly args: string;
    readonly run: (cfg: SwitchyardConfig) => release.StepResult;
}

const PREFIX = "switchyard:";

export function undoCommand(before: UndoSide | undefined, after: UndoSide, dirArg = ""): Undo {
    if (!before) return { command: null, note: "nothing was deployed before; `pulumi destroy` removes the stack" };
    if (sameJson(before.file, after.file)) return { command: null, note: "nothing changes; nothing to undo" };
    const others = diffPaths(outside(before.file), outside(after.file));
    if (others.length === 0 && sameJson(before.config, after.config)) {
        return { command: null, note: "the edit changes how the file is written, not what it means; nothing to undo" };
    }
    const stack = after.config.stack;
    const tool = (steps: readonly Step[]) => steps.map((s) => `npm run switchyard -- ${s.args} --stack ${stack}${dirArg}`).join(" && ");
    const revert = "no release-tool command returns the stack file exactly to the base: revert the commit (git revert)";

    // Keys outside switchyard: (aws:region, …) are changed by no release step.
    if (others.length > 0) return { command: null, note: `${revert}; no release step changes ${others.join(", ")}` };

    const singles = stepsFrom(before.config, after.config);
    const results: { steps: readonly Step[]; result: ReturnType<typeof simulate> }[] = [];
    for (const steps of sequences(singles)) {
        const result = simulate(rawOf(after.file), stack, steps);
        if (result && sameJson(normalized(result.config), normalized(before.config))) {
            return { command: tool(steps), note: "returns the stack file exactly to the base; checked by running the steps on it" };
        }
        results.push({ steps, result });
    }

    if (production(after.config, false) === production(before.config, false)) {
        const rebuilt = servingBuilds(after.config).filter(
            (s) => s.build !== servingBuilds(before.config).find((b) => b.color === s.color)?.build,
        );
        const builds = rebuilt.map((s) => `${s.color} now runs ${s.build} (was ${describeSlot(before.config.slots[s.color])})`);
        return {
            command: null,
            note: `${revert}; production traffic goes where it did${builds.length > 0 ? `, but ${builds.join(" and ")}` : ""}`,
        };
    }
    const routing = production(before.config, true);
    const nearest = results.find((r) => r.result && production(r.result.config, true) === routing);
    if (!nearest?.result) return { command: null, note: revert };
    const left = diffPaths(nearest.result.raw, rawOf(before.file)).map((p) => `${PREFIX}${p}`);
    return {
        command: null,
        note: `${revert}; ${tool(nearest.steps)} restores its production routing but leaves ${listed(left)} as the change made ${left.length === 1 ? "it" : "them"}`,
    };
}

/** Sequences of up to MAX_STEPS different steps, shortest first. */
function* sequences(steps: readonly Step[]): Generator<readonly Step[]> {
    for (let n = 1; n <= MAX_STEPS; n++) yield* ofLength(steps, [], n);
}

function* ofLength(steps: readonly Step[], prefix: readonly Step[], n: number): Generator<readonly Step[]> {
    if (prefix.length === n) {
        yield prefix;
        return;
    }
    for (const step of steps) if (!prefix.includes(step)) yield* ofLength(steps, [...prefix, step], n);
}

/** A rollback, the canary it removed and a route it removed: three steps are the most one undo takes. */
const MAX_STEPS = 3;

/**
 * Every single step that could lead back to `base`: the traffic steps, start of each build the
 * base holds, route add of each base route, route remove of each route the change added.
 */
function stepsFrom(base: SwitchyardConfig, changed: SwitchyardConfig): Step[] {
    const steps: Step[] = [
        { args: "rollback", run: (c) => release.rollback(c) },
        { args: "flip", run: (c) => release.flip(c) },
        { args: "finish", run: (c) => release.finish(c) },
    ];
    const canary = base.traffic.canary;
    if (canary) {
        steps.push({
            args: `canary --percent ${canary.percent}${canary.stickiness ? ` --stickiness ${canary.stickiness}` : ""}`,
            run: (c) => release.canary(c, { percent: canary.percent, stickiness: canary.stickiness }),
        });
    }
    for (const slot of Object.values(base.slots)) {
        if (!slot) continue;
        const build = slot.kind === "image" ? `--image ${slot.image}` : `--build ${slot.context}`;
        const schema = slot.schema ? ` --schema ${schemaArg(slot.schema)}` : "";
        steps.push({
            args: `start ${build}${schema}`,
            run: (c) =>
                release.start(c, {
                    ...(slot.kind === "image" ? { image: slot.image } : { build: slot.context }),
                    ...(slot.schema ? { schema: slot.schema } : {}),
                }),
        });
    }
    const has = (routes: readonly Route[], r: Route) => routes.some((x) => sameJson(x, r));
    // Every base route, not only those the change removed: a rollback in the undo removes routes too.
    for (const route of base.traffic.routes) {
        const flags = routeFlags(route);
        steps.push({ args: `route add ${flagWords(route)}`, run: (c) => routeAdd(c, flags) });
    }
    for (const route of changed.traffic.routes.filter((r) => !has(base.traffic.routes, r))) {
        steps.push({ args: `route remove --priority ${route.priority}`, run: (c) => routeRemove(c, route.priority) });
    }
    return steps;
}

/** The flags of `route add` that recreate `route` exactly (its priority included). */
function routeFlags(route: Route) {
    return {
        color: route.color,
        header: route.header ? `${route.header.name}=${route.header.values.join(",")}` : undefined,
        cookie: route.cookie ? `${route.cookie.name}=${route.cookie.value}` : undefined,
        sourceIps: route.sourceIps,
        hosts: route.hosts,
        queries: route.query ? Object.entries(route.query).map(([k, v]) => `${k}=${v}`) : undefined,
        priority: route.priority,
    };
}

function flagWords(route: Route): string {
    const f = routeFlags(route);
    const words = [`--color ${f.color}`];
    if (f.header) words.push(`--header ${shellWord(f.header)}`);
    if (f.cookie) words.push(`--cookie ${shellWord(f.cookie)}`);
    for (const ip of f.sourceIps ?? []) words.push(`--source-ip ${shellWord(ip)}`);
    for (const host of f.hosts ?? []) words.push(`--host ${shellWord(host)}`);
    for (const q of f.queries ?? []) words.push(`--query ${shellWord(q)}`);
    words.push(`--priority ${f.priority}`);
    return words.join(" ");
}

/** A word as a POSIX shell reads it back unchanged: quoted when it holds anything but plain characters. */
function shellWord(word: string): string {
    return /^[A-Za-z0-9_./:=,@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The configuration with routes in priority order: the ALB evaluates rules by priority, not by their place in the list. */
function normalized(cfg: SwitchyardConfig): SwitchyardConfig {
    return { ...cfg, traffic: { ...cfg.traffic, routes: [...cfg.traffic.routes].sort((a, b) => a.priority - b.priority) } };
}

/** The steps run one after the other on `raw`, as the release tool would; undefined if one refuses. */
function simulate(raw: RawConfig, stack: string, steps: readonly Step[]): { raw: RawConfig; config: SwitchyardConfig } | undefined {
    let current: { raw: RawConfig; config: SwitchyardConfig } | undefined;
    for (const step of steps) {
        const outcome = release.runStep(current?.raw ?? raw, stack, step.run);
        if (!outcome.ok) return undefined;
        current = { raw: outcome.raw, config: outcome.config };
    }
    return current;
}

/** `--schema` as the release tool reads it: `3,4` or `3..5`. */
function schemaArg(s: SchemaSupport): string {
    return "versions" in s ? s.versions.join(",") : `${s.min}..${s.max}`;
}

/** Who gets production traffic (shares per colour, routes, stickiness), and with `builds` which build each colour runs. */
function production(cfg: SwitchyardConfig, builds: boolean): string {
    const t = summarizeTraffic(cfg);
    const build = (b: string) => (builds ? [b] : []);
    return JSON.stringify([
        t.default.map((s) => [s.color, s.percent, ...build(s.build)]),
        t.routes.map((r) => [r.color, r.when, ...build(r.build)]),
        t.stickinessSeconds,
    ]);
}

/** The colours with production traffic and the build each runs. */
function servingBuilds(cfg: SwitchyardConfig): { color: Color; build: string }[] {
    const t = summarizeTraffic(cfg);
    const serving = [...t.default.map((s) => s.color), ...t.routes.map((r) => r.color)];
    return [...new Set(serving)].map((color) => ({ color, build: describeSlot(cfg.slots[color]) }));
}

function rawOf(file: Readonly<Record<string, unknown>>): RawConfig {
    return Object.fromEntries(Object.entries(file).flatMap(([k, v]) => (k.startsWith(PREFIX) ? [[k.slice(PREFIX.length), v]] : [])));
}

function outside(file: Readonly<Record<string, unknown>>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(file).filter(([k]) => !k.startsWith(PREFIX)));
}

const listed = (paths: readonly string[]) => (paths.length > 3 ? `${paths.slice(0, 3).join(", ")}, …` : paths.join(", "));
