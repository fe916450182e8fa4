/** The "a person must act" report (exit 3) names the service or train the rollback is for. */
import { strict as assert } from "node:assert";
import { mustActMessage } from "../../cli/errors";

describe("a person must act: the advice", () => {
    const base = {
        command: "rollout",
        stack: "dev",
        dir: process.cwd(),
        reason: "the rollback's apply failed",
        fileSays: "live blue",
        awsLastTold: "canary 10",
    };
    it("names --train or --service in the rollback it suggests (a stack of several services refuses it without)", () => {
        for (const which of [" --train checkout", " --service api", ""]) {
            assert.equal(
                mustActMessage({ ...base, which }).at(-1),
                "  The file and AWS may differ. To apply what the file says: npm run switchyard -- sync --stack dev " +
                    `(to go back to the last safe routing first: npm run switchyard -- rollback --stack dev${which}, then the same sync)`,
            );
        }
    });
});
