/**
 * One stack, many services: each service's rollout holds its own lock, but every step is a
 * `pulumi up` of the whole stack, so two rollouts meet at the backend's stack lock. The refusal
 * (another update in progress) is waited out and the step applied again, never read as a failed
 * step (which would roll back) nor, while the wait lasts, as "a person must act".
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { Apply, ApplyError, CONCURRENT_UPDATE_EXIT, shellApply, waitingOutConcurrentUpdates } from "../../lib/rollout/apply";

describe("applies refused because another update of the stack is in progress", () => {
    const fakeTime = () => {
        let t = 0;
        return { now: () => t, sleep: async (ms: number) => void (t += ms), slept: () => t };
    };

    it("are applied again after 5, 10, 20 s ... until the other update ends", async () => {
        const calls: string[] = [];
        let refusals = 3;
        const apply: Apply = async (label) => {
            calls.push(label);
            if (refusals-- > 0) throw new ApplyError("another update is in progress", "concurrent");
        };
        const out: string[] = [];
        const time = fakeTime();
        await waitingOutConcurrentUpdates(apply, { out: (l) => out.push(l), ...time })("canary 10");
        assert.deepEqual(calls, ["canary 10", "canary 10", "canary 10", "canary 10"]);
        assert.equal(time.slept(), 5000 + 10000 + 20000);
        assert.deepEqual(out, [
            "canary 10: another update of the stack is in progress; applying again in 5 s",
            "canary 10: another update of the stack is in progress; applying again in 10 s",
            "canary 10: another update of the stack is in progress; applying again in 20 s",
        ]);
    });

    it("stand as refused once the wait would pass maxWaitMs (then a person must act)", async () => {
        const apply: Apply = async () => {
            throw new ApplyError("another update is in progress", "concurrent");
        };
        const time = fakeTime();
        await assert.rejects(
            waitingOutConcurrentUpdates(apply, { out: () => undefined, maxWaitMs: 60000, ...time })("rollback"),
            (e: ApplyError) => {
                assert.equal(e.kind, "concurrent");
                return true;
            },
        );
        assert.equal(time.slept(), 5000 + 10000 + 20000);
    });

    it("never retry a failed or stopped apply", async () => {
        for (const kind of ["failed", "stopped"] as const) {
            let calls = 0;
            const apply: Apply = async () => {
                calls++;
                throw new ApplyError(kind, kind);
            };
            await assert.rejects(waitingOutConcurrentUpdates(apply, { out: () => undefined, ...fakeTime() })("flip"));
            assert.equal(calls, 1, kind);
        }
    });

    it(`an --apply command exiting ${CONCURRENT_UPDATE_EXIT} is such a refusal (.github/scripts/rollout-step.sh maps pulumi's to it)`, async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "switchyard-concurrent-"));
        try {
            writeFileSync(path.join(dir, "busy.sh"), `#!/bin/sh\nexit ${CONCURRENT_UPDATE_EXIT}\n`, { mode: 0o755 });
            const apply = shellApply("./busy.sh", { stack: "dev", dir, env: process.env, out: () => undefined });
            await assert.rejects(apply("canary 10"), (e: ApplyError) => {
                assert.equal(e.kind, "concurrent");
                return true;
            });
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
