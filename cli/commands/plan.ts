/**
 * `plan --stack S [--service NAME] [--dir D] [--base <git-ref> | --base-file <path> | --base none] [--json | --markdown]`:
 * evaluates the program offline under Pulumi's mocks for the base and for the stack file as it
 * is now, and prints what the change does. A stack of several services (`switchyard:services`,
 * on either side) is planned per service (lib/plan/services.ts): every service, or the one
 * `--service` names, and the changes of the shared edge; the diff follows aliases, so moving a
 * single-service stack into `services:` shows no replacement and no deletion. Exit codes: 0 the change is what it claims, 1 an
 * invariant is broken, 2 bad input (an invalid stack file, a base that cannot be read).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Document } from "yaml";
import { SwitchyardConfig, parseConfig, parseStack } from "../../lib/config";
import { ConfigError } from "../../lib/problems";
import { Plan, Side, buildPlan } from "../../lib/plan/plan";
import { listed } from "../../lib/release";
import { buildAssumptions } from "../../lib/plan/builds";
import type { BuildAssumption } from "../../lib/program/mocks";
import { planJson, planMarkdown, planText, stackPlanJson, stackPlanMarkdown, stackPlanText } from "../../lib/plan/render";
import { StackPlan, buildStackPlan, plain } from "../../lib/plan/services";
import { chooseService } from "../../lib/serviceChoice";
import { StackSpec } from "../../lib/stackSpec";
import { CliError, loadStackFile, parseStackText, readRaw } from "../stackFile";

export interface PlanOptions {
    readonly stack: string;
    readonly dir: string;
    /** A git ref (default HEAD) or `none`. */
    readonly base?: string;
    readonly baseFile?: string;
    readonly json?: boolean;
    readonly markdown?: boolean;
    /** Plan this service only; default: every service. */
    readonly service?: string;
}

/** A stack file read and validated: its `config:` map for the program, and the parsed model. */
interface Loaded {
    readonly label: string;
    readonly configMap: Record<string, unknown>;
    readonly spec: StackSpec;
    /** The single-service form's only service. */
    readonly config: SwitchyardConfig;
}

/** Where the plan and errors go (the CLI's Io satisfies it). */
export interface PlanIo {
    out(line: string): void;
    err(line: string): void;
}

export async function planCommand(opts: PlanOptions, io: PlanIo): Promise<number> {
    let plan: Plan | StackPlan;
    try {
        plan = await makePlan(opts);
    } catch (e) {
        // Bad input: the file or the base cannot be read or is invalid (same messages as every command).
        if (e instanceof CliError) io.err(`switchyard: ${e.message}`);
        else if (e instanceof ConfigError) io.err(e.message);
        else throw e;
        return 2;
    }
    if ("services" in plan) {
        const lines = opts.json
            ? [JSON.stringify(stackPlanJson(plan), null, 2)]
            : opts.markdown
              ? stackPlanMarkdown(plan)
              : stackPlanText(plan);
        lines.forEach((line) => io.out(line));
        return plan.services.some((s) => s.plan.violations.length > 0) ? 1 : 0;
    }
    const lines = opts.json ? [JSON.stringify(planJson(plan), null, 2)] : opts.markdown ? planMarkdown(plan) : planText(plan);
    lines.forEach((line) => io.out(line));
    return plan.violations.length > 0 ? 1 : 0;
}

async function makePlan(opts: PlanOptions): Promise<Plan | StackPlan> {
    if (opts.baseFile !== undefined && opts.base !== undefined) throw new CliError("give either --base or --base-file, not both", 2);
    const file = loadStackFile(opts.dir, opts.stack);
    const after = validated(file.path, file.doc, opts.stack);
    const base = readBase(opts);
    const before = base === undefined ? undefined : validated(base.label, parseYaml(base.text, base.label), opts.stack);
    if (opts.service !== undefined) {
        const chosen = chooseService(after.spec, opts.service, "plan");
        if (!chosen.ok) throw new CliError(chosen.refusal, 2);
    }
    const severalForm = after.spec.form === "services" || before?.spec.form === "services";

    // Loaded only now: @pulumi/pulumi is heavy, and other commands must start fast.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { evaluate } = require("../../lib/program/evaluate") as typeof import("../../lib/program/evaluate");
    const builds = severalForm ? stackBuildAssumptions(before?.spec, after.spec) : buildAssumptions(before?.config, after.config);
    const dirArg = path.resolve(opts.dir) === process.cwd() ? "" : ` --dir ${opts.dir}`;
    const side = async (l: Loaded, build: BuildAssumption): Promise<Side> => {
        try {
            // In the stack files' folder, where pulumi up runs the program: a build context `./app` is D/app.
            const { resources } = await evaluate(opts.stack, l.configMap, build, opts.dir);
            return { file: l.configMap, config: l.config, resources };
        } catch (e) {
            if (e instanceof ConfigError) throw e;
            // E.g. a build context that is not there: bad input (exit 2), not a broken invariant (exit 1).
            throw new CliError(`${l.label}: the program could not be evaluated: ${(e as Error).message ?? String(e)}`, 2);
        }
    };
    const beforeSide = before ? await side(before, builds.before) : undefined;
    const afterSide = await side(after, builds.after);
    if (severalForm) {
        return buildStackPlan({
            baseLabel: before?.label ?? "none (nothing deployed)",
            before: before && beforeSide && { file: before.configMap, spec: before.spec, resources: beforeSide.resources },
            after: { file: after.configMap, spec: after.spec, resources: afterSide.resources },
            only: opts.service,
            liveElsewhere: liveDigestsOfOtherStacks(opts.dir, opts.stack),
            dirArg,
        });
    }
    return buildPlan({
        baseLabel: before?.label ?? "none (nothing deployed)",
        before: beforeSide,
        after: afterSide,
        liveElsewhere: liveDigestsOfOtherStacks(opts.dir, opts.stack),
        dirArg,
    });
}

function validated(label: string, doc: Document, stack: string): Loaded {
    const configMap = (doc.toJS()?.config ?? {}) as Record<string, unknown>;
    try {
        const spec = parseStack(readRaw(doc, label), stack);
        return { label, configMap, spec, config: plain(spec.services[0]) };
    } catch (e) {
        // The words status and the editing commands use (lib/release.ts runStep), naming which file.
        if (e instanceof ConfigError) throw new CliError(`${label} is not valid as it stands; fix it first:\n${listed(e)}`, 2);
        throw e;
    }
}

/** The build assumption of the first service a change pins (the mocks take one; lib/plan/builds.ts). */
function stackBuildAssumptions(before: StackSpec | undefined, after: StackSpec) {
    for (const service of after.services) {
        const was = before?.services.find((s) => s.service.name === service.service.name);
        const found = buildAssumptions(was, service);
        if (Object.keys(found.before).length > 0) return found;
    }
    return { before: {}, after: {} };
}

function parseYaml(text: string, label: string): Document {
    const doc = parseStackText(text);
    if (doc.errors.length > 0) throw new CliError(`${label} is not valid YAML: ${doc.errors.map((e) => e.message).join("; ")}`, 2);
    return doc;
}

/** The base stack file's text and a label for it; undefined for `--base none`. */
function readBase(opts: PlanOptions): { label: string; text: string } | undefined {
    if (opts.baseFile !== undefined) {
        try {
            return { label: opts.baseFile, text: fs.readFileSync(opts.baseFile, "utf8").replace(/^\uFEFF/, "") };
        } catch (e) {
            throw new CliError(`--base-file ${opts.baseFile} cannot be read: ${(e as Error).message}`, 2);
        }
    }
    const ref = opts.base ?? "HEAD";
    if (ref === "none") return undefined;
    const name = `Pulumi.${opts.stack}.yaml`;
    try {
        // `<ref>:./<file>` is resolved relative to the working directory (git help revisions).
        const text = execFileSync("git", ["show", `${ref}:./${name}`], {
            cwd: opts.dir,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
        return { label: `${ref}:${name}`, text: text.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n") };
    } catch (e) {
        const why = String((e as { stderr?: string }).stderr ?? (e as Error).message)
            .trim()
            .split("\n")[0];
        throw new CliError(
            `--base ${ref}: cannot read ${name} from git in ${opts.dir} (${why}); ` +
                `give another ref, --base-file <path>, or --base none for a stack that is not deployed yet`,
            2,
        );
    }
}

/** digest → stack for the other stack files in the folder whose live slot is an image (promotion sources). */
function liveDigestsOfOtherStacks(dir: string, stack: string): Map<string, string> {
    const found = new Map<string, string>();
    for (const entry of fs.readdirSync(dir)) {
        const m = /^Pulumi\.(.+)\.yaml$/.exec(entry);
        if (!m || m[1] === stack) continue;
        try {
            const file = loadStackFile(dir, m[1]);
            const cfg = parseConfig(file.raw, m[1]);
            const slot = cfg.slots[cfg.traffic.live];
            if (slot?.kind === "image") found.set(slot.image, m[1]);
        } catch {
            // Another stack's file that does not parse says nothing about this one.
        }
    }
    return found;
}
