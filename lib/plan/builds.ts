/**
 * What `plan` assumes about builds, which nothing offline can know: when a change pins the build
 * that serves production (pin, start on a live build, flip of a built candidate: blue-green, the
 * pinned slot live after the change), that the build produced exactly the digest it is now pinned
 * to, in the stack's own repository. The release tool reads that digest from the stack's `images`
 * output, so the assumption holds for its edits; without it every pin would look like a new image
 * on that colour (a false invariant 4). A build replaced by an image anywhere else (a candidate
 * given `--image`, the one fleet of a rolling stack) is a new image, and the diff shows it.
 */
import type { BuildAssumption } from "../program/mocks";
import { COLORS, SwitchyardConfig } from "../model";

export interface BuildAssumptions {
    readonly before: BuildAssumption;
    readonly after: BuildAssumption;
}

export function buildAssumptions(before: SwitchyardConfig | undefined, after: SwitchyardConfig): BuildAssumptions {
    if (after.strategy !== "blue-green") return { before: {}, after: {} };
    for (const color of COLORS) {
        const was = before?.slots[color];
        const now = after.slots[color];
        if (was?.kind === "build" && now?.kind === "image" && after.traffic.live === color) {
            const at = now.image.indexOf("@");
            const repositoryUrl = now.image.slice(0, at);
            // The repository is the same resource on both sides; only the base's build had this digest.
            return { before: { repositoryUrl, digest: now.image.slice(at + 1) }, after: { repositoryUrl } };
        }
    }
    return { before: {}, after: {} };
}
