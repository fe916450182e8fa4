/**
 * The versions a stack file has had in git, newest first, read-only: what `verify` compares AWS
 * with to tell an edit that is not applied yet from a change made outside Pulumi.
 */
import { execFileSync } from "node:child_process";
import { SwitchyardConfig, parseStack } from "../lib/config";
import { chooseService } from "../lib/serviceChoice";
import { parseStackText, readRaw } from "./stackFile";

export interface StackVersion {
    /** `the last commit (1a2b3c4 "canary 10")`, `commit 1a2b3c4 "flip" (2 commits before the last)`. */
    readonly label: string;
    readonly cfg: SwitchyardConfig;
}

/** How far back verify looks: a release is a handful of commits. */
const MAX_VERSIONS = 20;

/**
 * The committed versions of `<dir>/Pulumi.<stack>.yaml` that are valid stack configurations,
 * newest first; undefined when git cannot tell (not a repository, no git, the file never committed).
 */
export function committedVersions(dir: string, stack: string, service?: string): StackVersion[] | undefined {
    const name = `Pulumi.${stack}.yaml`;
    const log = git(dir, ["log", `-n${MAX_VERSIONS}`, "--format=%h%x09%s", "--", name]);
    const commits = log?.split("\n").filter(Boolean) ?? [];
    if (commits.length === 0) return undefined;
    const versions: StackVersion[] = [];
    for (const [i, line] of commits.entries()) {
        const [hash, subject] = line.split("\t");
        // `<rev>:./<path>` is relative to the working directory (git help revisions).
        const text = git(dir, ["show", `${hash}:./${name}`]);
        const cfg = text === undefined ? undefined : validConfig(text, stack, service);
        if (!cfg) continue;
        const commit = `${hash} "${subject}"`;
        versions.push({
            label: i === 0 ? `the last commit (${commit})` : `commit ${commit} (${i} commit${i === 1 ? "" : "s"} before the last)`,
            cfg,
        });
    }
    return versions;
}

/** The version's config of `service` (the only one when not given; verify has picked it in the current file). */
function validConfig(text: string, stack: string, service: string | undefined): SwitchyardConfig | undefined {
    try {
        const doc = parseStackText(text.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n"));
        if (doc.errors.length > 0) return undefined;
        const chosen = chooseService(parseStack(readRaw(doc), stack), service, "verify");
        return chosen.ok ? chosen.service : undefined;
    } catch {
        return undefined; // a version that was never valid was never applied either
    }
}

function git(dir: string, args: string[]): string | undefined {
    try {
        return execFileSync("git", args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
    } catch {
        return undefined;
    }
}
