/**
 * `switchyard verify --stack S [--service NAME] [--dir DIR]`: compares the load balancer in AWS with
 * the stack file (production weights, test listener, listener rules) and checks that every colour
 * with traffic has enough healthy targets. On a stack with several services it checks the one
 * `--service` names (required there): its target groups by their tags, its rules on the shared
 * listeners (lib/verify.ts serviceState). Exit codes: 0 in sync, 1 drift or unhealthy, 2 could not check.
 *
 * Where AWS differs, the file's history in git says why: AWS has what an earlier version said →
 * the edits since are not applied yet; no version matches → changed outside Pulumi; no history →
 * either (it says both).
 */
import { SwitchyardConfig, parseStack } from "../lib/config";
import { chooseService } from "../lib/serviceChoice";
import { StackSpec } from "../lib/stackSpec";
import { ConfigError } from "../lib/problems";
import { AwsError } from "../lib/aws/errors";
import { findStack } from "../lib/aws/inspect";
import {
    CAUSE_UNKNOWN,
    DriftReading,
    OUTSIDE_PULUMI,
    appliedVersion,
    compareStack,
    formatTable,
    notApplied,
    serviceState,
} from "../lib/verify";
import type { StackState } from "../lib/aws/inspect";
import { committedVersions } from "./stackHistory";
import { CliError, StackFile, loadStackFile } from "./stackFile";

export interface VerifyOptions {
    readonly stack: string;
    /** The service to check; required when the stack has more than one. */
    readonly service?: string;
    /** Directory holding `Pulumi.<stack>.yaml`. */
    readonly dir: string;
    /** Where the report goes. @default console.log */
    readonly out?: (line: string) => void;
    /** Where an error that stops the check goes. @default console.error */
    readonly err?: (line: string) => void;
}

/** Thrown for anything that stops verify from checking at all (exit code 2). */
class CannotVerify extends Error {}

export async function runVerify(opts: VerifyOptions): Promise<number> {
    const out = opts.out ?? ((line: string) => console.log(line));
    const err = opts.err ?? ((line: string) => console.error(line));
    try {
        const { spec, cfg, region } = readStackFile(opts);
        const adopted = spec.edge.adopt;
        const found = await findStack({
            stack: opts.stack,
            service: cfg.service.name,
            region,
            listenerArns: adopted && { production: adopted.productionListenerArn, test: adopted.testListenerArn },
        });
        const state = found && serviceState(spec, cfg.service.name, found);
        if (!state) {
            throw new CannotVerify(
                `nothing found: no load balancer is tagged switchyard:stack=${opts.stack} switchyard:service=${cfg.service.name}; ` +
                    `has \`pulumi up\` run for stack ${opts.stack} in region ${region}?`,
            );
        }
        const first = compareStack(cfg, state);
        const report = first.drifted ? compareStack(cfg, state, driftReading(opts, state)) : first;
        out(
            `stack ${opts.stack}, service ${cfg.service.name}, load balancer ${state.loadBalancer.name} (${region}); live ${cfg.traffic.live}`,
        );
        for (const line of formatTable(report.rows)) out(line);
        for (const note of report.notes) out(note);
        for (const problem of report.problems) out(`✗ ${problem}`);
        out(report.ok ? "in sync: AWS matches the stack file" : `${report.problems.length} problem(s) found`);
        return report.ok ? 0 : 1;
    } catch (e) {
        if (e instanceof CannotVerify || e instanceof AwsError) {
            err(`switchyard: ${e.message}`);
            return 2;
        }
        // Its message already starts with "switchyard: " (as pulumi up prints it).
        if (e instanceof ConfigError) {
            err(e.message);
            return 2;
        }
        throw e;
    }
}

/** Why AWS differs from the stack file, as far as the file's committed versions can tell. */
function driftReading(opts: VerifyOptions, state: StackState): DriftReading {
    const versions = committedVersions(opts.dir, opts.stack, opts.service);
    if (!versions) return CAUSE_UNKNOWN;
    const applied = appliedVersion(versions, state);
    return applied ? notApplied(applied.label, opts.stack) : OUTSIDE_PULUMI;
}

/** Reads and validates `<dir>/Pulumi.<stack>.yaml` and picks the service; the region is its `aws:region`, else AWS_REGION. */
function readStackFile(opts: VerifyOptions): { spec: StackSpec; cfg: SwitchyardConfig; region: string } {
    let file: StackFile;
    try {
        file = loadStackFile(opts.dir, opts.stack);
    } catch (e) {
        if (e instanceof CliError) throw new CannotVerify(e.message);
        throw e;
    }
    const spec = parseStack(file.raw, opts.stack);
    const chosen = chooseService(spec, opts.service, "verify");
    if (!chosen.ok) throw new CannotVerify(chosen.refusal);
    const cfg = chosen.service;
    const fileRegion = file.doc.getIn(["config", "aws:region"]);
    const region = (typeof fileRegion === "string" && fileRegion) || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
    if (!region) throw new CannotVerify(`no AWS region: set aws:region in ${file.path} or AWS_REGION`);
    return { spec, cfg, region };
}
