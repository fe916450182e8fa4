/**
 * Image references and build contexts. Pure helpers: no Pulumi resources, no Docker.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
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

/** Folders never part of a build context's identity (they are in every sane .dockerignore). */
const IGNORED = new Set([".git", "node_modules", ".DS_Store"]);

/**
 * A content hash of a Docker build context: the same files give the same tag, so an unchanged
 * context is not rebuilt or pushed, and a changed one gets a new immutable tag.
 */
export function buildContextTag(contextDir: string): string {
    const hash = createHash("sha256");
    const walk = (dir: string): void => {
        for (const entry of readdirSync(dir).sort()) {
            if (IGNORED.has(entry)) continue;
            const path = join(dir, entry);
            if (statSync(path).isDirectory()) {
                walk(path);
            } else {
                hash.update(relative(contextDir, path).split("\\").join("/"));
                hash.update("\0");
                hash.update(readFileSync(path));
                hash.update("\0");
            }
        }
    };
    walk(contextDir);
    return `build-${hash.digest("hex").slice(0, 16)}`;
}
