/**
 * Finding the digest a `build` slot was pushed as, for `flip`: `pulumi stack output images --json`
 * when the pulumi CLI is on PATH (`images` is `{ blue, green }` of digest references). The
 * services form exports each service's outputs under `services` (program.ts, index.ts), so a
 * service's digests are `services.<name>.images` there: `pulumi stack output services --json`.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Color, DIGEST_PATTERN } from "../../lib/config";
import { CliError } from "../stackFile";

/** The pulumi executable on PATH, or undefined. */
export function findPulumi(env: NodeJS.ProcessEnv): string | undefined {
    const names = process.platform === "win32" ? ["pulumi.exe", "pulumi.cmd"] : ["pulumi"];
    for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
        for (const name of names) {
            const candidate = path.join(dir, name);
            try {
                fs.accessSync(candidate, fs.constants.X_OK);
                if (fs.statSync(candidate).isFile()) return candidate;
            } catch {
                // not here
            }
        }
    }
    return undefined;
}

/**
 * The digest of `color` from the stack's `images` output (`service`: a service of the services
 * form, read from `services.<service>.images`), or undefined when the pulumi CLI is not installed
 * (flip then explains how to pass --digest). Throws CliError when pulumi fails or the output has
 * no digest for the colour; the messages name `flag`, the option that passes it instead.
 */
export function digestFromStackOutput(
    stack: string,
    dir: string,
    color: Color,
    env: NodeJS.ProcessEnv,
    flag: "--digest" | "--live-digest" = "--digest",
    service?: string,
): string | undefined {
    const pulumi = findPulumi(env);
    if (!pulumi) return undefined;
    const output = service === undefined ? "images" : "services";
    const args = ["stack", "output", output, "--json", "--stack", stack];
    let stdout: string;
    try {
        stdout = execFileSync(pulumi, args, { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    } catch (e) {
        const stderr = String((e as { stderr?: unknown }).stderr ?? (e as Error).message).trim();
        throw new CliError(
            `pulumi ${args.join(" ")} failed: ${stderr || "no output"}; pass the digest with ${flag} <repo>@sha256:<digest>`,
        );
    }
    let printed: unknown;
    try {
        printed = JSON.parse(stdout);
    } catch {
        throw new CliError(`pulumi ${args.join(" ")} did not print JSON; pass the digest with ${flag} <repo>@sha256:<digest>`);
    }
    const images = service === undefined ? printed : member(member(printed, service), "images");
    const digest = member(images, color);
    if (typeof digest !== "string" || !DIGEST_PATTERN.test(digest)) {
        const where = service === undefined ? "images" : `services.${service}.images`;
        throw new CliError(
            `the stack output ${where} has no digest for ${color} (got ${JSON.stringify(digest ?? null)}); ` +
                `run pulumi up --stack ${stack} first, or pass ${flag} <repo>@sha256:<digest>`,
        );
    }
    return digest;
}

function member(value: unknown, key: string): unknown {
    return value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
}
