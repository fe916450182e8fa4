/**
 * A slot's Docker build context on this machine: whether `pulumi up` could build it, and its
 * content hash. Contexts are relative to the stack file's folder (`--dir`), which is where
 * `pulumi up` runs the program and resolves them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { buildContentHash } from "../../lib/images";

/**
 * The Dockerfile @pulumi/docker builds when none is named (switchyard names none): "if left blank,
 * we assume traditional location of Dockerfile within the Docker build context"
 * (https://github.com/pulumi/pulumi-docker/releases/tag/v4.0.1, the `dockerfile` field).
 */
export const DOCKERFILE = "Dockerfile";

/** Why `context` cannot be built (not there, not a folder, no Dockerfile), or undefined when it can. */
export function buildContextProblem(dir: string, context: string): string | undefined {
    const folder = path.resolve(dir, context);
    const where = folder === context ? context : `${context} (${folder})`;
    const stat = fs.statSync(folder, { throwIfNoEntry: false });
    if (!stat) return `--build ${where} does not exist; give the folder that holds the Dockerfile, relative to --dir`;
    if (!stat.isDirectory()) return `--build ${where} is not a folder; give the Docker context folder that holds the ${DOCKERFILE}`;
    if (!fs.statSync(path.join(folder, DOCKERFILE), { throwIfNoEntry: false })?.isFile()) {
        return `--build ${where} has no ${DOCKERFILE}, which pulumi up builds from; add it, or give the folder that has one`;
    }
    return undefined;
}

/** The context's content hash now (the image tag's part after `build-`), or undefined when it cannot be read here. */
export function contentHashOf(dir: string, context: string): string | undefined {
    const folder = path.resolve(dir, context);
    try {
        return fs.statSync(folder).isDirectory() ? buildContentHash(folder) : undefined;
    } catch {
        return undefined; // e.g. a rollout run from another checkout: nothing is recorded, nothing is claimed
    }
}
