/**
 * The release-tool command that returns a stack to its base routing after a planned change (or
 * null with the reason when no single command does). Pure: from the kind and both configs.
 */
import { COLORS, Canary, SwitchyardConfig, otherColor } from "../model";
import { Kind } from "./kind";

export interface Undo {
    /** A command that works as printed, or null. */
    readonly command: string | null;
    readonly note: string;
}

export function undoCommand(kind: Kind, before: SwitchyardConfig | undefined, after: SwitchyardConfig, dirArg = ""): Undo {
    const tool = (args: string) => `npm run switchyard -- ${args} --stack ${after.stack}${dirArg}`;
    if (!before) return { command: null, note: "nothing was deployed before; `pulumi destroy` removes the stack" };
    // The colour a release goes into: the candidate, or with the rolling strategy the one fleet.
    const candidate = after.strategy === "rolling" ? after.traffic.live : otherColor(after.traffic.live);
    const slot = before.slots[candidate];
    const again = slot?.kind === "image" ? `--image ${slot.image}` : slot ? `--build ${slot.context}` : undefined;
    switch (kind) {
        case "flip": {
            // rollback reverses the flip without its canary and without routes to the flipped-to colour
            // (lib/release.ts); a canary comes back with a second step, routes with no release-tool command.
            const routed = before.traffic.routes.filter((r) => r.color === after.traffic.live).length;
            if (routed > 0) {
                return {
                    command: null,
                    note:
                        `the base had ${routed} route${routed === 1 ? "" : "s"} to ${after.traffic.live}, which rollback removes (the last safe ` +
                        `routing): revert the commit (git revert) to return to the base exactly, or run rollback for the last safe routing`,
                };
            }
            const canary = before.traffic.canary;
            return canary === undefined
                ? { command: tool("rollback"), note: `makes ${before.traffic.live} live again, exactly as before the flip` }
                : {
                      command: `${tool("rollback")} && ${tool(canaryArgs(canary))}`,
                      note: `makes ${before.traffic.live} live again, then restores the ${canary.percent}% canary the flip removed`,
                  };
        }
        case "canary step": {
            const was = before.traffic.canary;
            if (was !== undefined && JSON.stringify(before.traffic.routes) === JSON.stringify(after.traffic.routes)) {
                return { command: tool(canaryArgs(was)), note: `returns the canary to ${was.percent}%` };
            }
            return before.traffic.routes.length === 0
                ? { command: tool("rollback"), note: "removes the canary and routes: all default traffic to the live colour again" }
                : { command: null, note: "the base had routes of its own: revert the edit (git revert) to restore them exactly" };
        }
        case "rollback":
            return before.traffic.live !== after.traffic.live
                ? { command: tool("flip"), note: `makes ${before.traffic.live} live again` }
                : before.traffic.canary && before.traffic.routes.length === 0
                  ? { command: tool(canaryArgs(before.traffic.canary)), note: "restores the canary" }
                  : { command: null, note: "the routes were removed: revert the edit (git revert) to restore them" };
        case "release":
        case "promote":
            // (A blue-green release into the live colour breaks invariant 4: plan.ts gives git revert instead.)
            return again
                ? { command: tool(`start ${again}`), note: `puts ${candidate}'s previous build back; traffic was not moved` }
                : { command: tool("finish"), note: `${candidate} was empty: scales the new build down; traffic was not moved` };
        case "finish": {
            const idled = COLORS.find((c) => after.slots[c]?.idle && !before.slots[c]?.idle);
            const s = idled ? after.slots[idled] : undefined;
            const build = s?.kind === "image" ? `--image ${s.image}` : s ? `--build ${s.context}` : undefined;
            return build
                ? { command: tool(`start ${build}`), note: `warms ${idled} up again (as a candidate; routing was not changed)` }
                : { command: null, note: "routing was not changed" };
        }
        case "pin":
            return { command: null, note: "pinning changes no routing and no running build; nothing to undo" };
        default:
            return { command: null, note: "not a release step: revert the edit (git revert) to undo it" };
    }
}

const canaryArgs = (c: Canary) => `canary --percent ${c.percent}${c.stickiness ? ` --stickiness ${c.stickiness}` : ""}`;
