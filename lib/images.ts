/**
 * Image references and build contexts. Pure helpers: no Pulumi resources, no Docker.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join, relative } from "node:path";

const ECR_REF = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^@:]+)(?::[^@]+)?@sha256:[0-9a-f]{64}$/;

/**
 * The ARN of the private ECR repository an image reference points at, or undefined for any
 * other registry. Lets the execution role pull from exactly that repository and nothing else.
 */
export function ecrRepositoryArn(imageRef: string): string | undefined {
    const m = ECR_REF.exec(imageRef);
    return m ? `arn:aws:ecr:${m[2]}:${m[1]}:repository/${m[3]}` : undefined;
}

/**
 * The repository of a digest reference, without digest or tag: `registry/web` for
 * `registry/web@sha256:…` and `registry/web:v1@sha256:…` (a `:` after the last `/` starts a tag;
 * one before it is a registry port).
 */
export function repositoryOf(ref: string): string {
    const name = ref.split("@")[0];
    const slash = name.lastIndexOf("/");
    const colon = name.indexOf(":", slash + 1);
    return colon < 0 ? name : name.slice(0, colon);
}

/**
 * A content hash of a Docker build context, the tag's first part. It covers everything the docker
 * provider hashes to decide a rebuild, and more: @pulumi/docker's Check hashes each file's
 * relative path, mode string and contents (a symlink by its resolved target), minus what
 * .dockerignore excludes, and `pulumi up` rebuilds and pushes whenever that digest changes
 * (pulumi/pulumi-docker provider/provider.go: hashContext, Check, Diff). A rebuild under the same
 * tag is refused by ECR's immutable tags (ImageTagAlreadyExistsException). So this hash takes
 * every file with its path, full mode and contents (a symlink by its target), ignoring nothing:
 * whatever changes the provider's digest changes this tag too (a mode change, a .dockerignore
 * edit, a file .dockerignore lists). `ignoreChanges` cannot close that gap: the engine applies
 * it before the provider's Check, which computes the digest again
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go: processIgnoreChanges, then prov.Check).
 */
export function buildContextTag(contextDir: string): string {
    return `build-${buildContentHash(contextDir)}`;
}

/** A build's content hash as a slot's `builtFrom.hash` records it: 16 lowercase hex digits. */
export const CONTENT_HASH_PATTERN = /^[0-9a-f]{16}$/;

/**
 * The content hash of a build context: the part of its image tag after `build-` (one function
 * for both, so `start --build` compares exactly what decides a rebuild).
 */
export function buildContentHash(contextDir: string): string {
    const hash = createHash("sha256");
    const walk = (dir: string): void => {
        for (const entry of readdirSync(dir).sort()) {
            const path = join(dir, entry);
            const stat = lstatSync(path);
            if (stat.isDirectory()) {
                walk(path);
                continue;
            }
            hash.update(relative(contextDir, path).split("\\").join("/"));
            hash.update(`\0${stat.mode.toString(8)}\0`);
            hash.update(stat.isSymbolicLink() ? `-> ${readlinkSync(path)} ${resolvedTarget(contextDir, path)}` : readFileSync(path));
            hash.update("\0");
        }
    };
    walk(contextDir);
    return hash.digest("hex").slice(0, 16);
}

/** Where a symlink leads, relative to the context (the provider hashes the resolved path); "missing" if nowhere. */
function resolvedTarget(contextDir: string, link: string): string {
    try {
        return relative(contextDir, realpathSync(link));
    } catch {
        return "missing";
    }
}
