/**
 * The rollout lock (lib/aws/lock.ts) against moto: DynamoDB's conditional PutItem as a
 * compare-and-set ("a conditional put operation (add a new item if one with the specified primary
 * key doesn't exist), or replace an existing item if it has certain attribute values": PutItem in
 * botocore's data/dynamodb/2012-08-10/service-2.json). moto evaluates the ConditionExpression
 * (`attribute_not_exists(lock) OR expiresAt < :now`), which is what these tests rely on; the
 * clock is injected, so expiry is tested without waiting.
 */
import { strict as assert } from "node:assert";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LOCK_TTL_SECONDS, acquireLock, rolloutLockKey } from "../../lib/aws/lock";
import { useMoto } from "../helpers/moto";

describe("rollout lock against moto (lib/aws/lock.ts)", function () {
    this.timeout(20000);
    useMoto();
    const T0 = Date.parse("2026-03-01T10:00:00.000Z");

    it("one holder at a time; a live lock names its owner; an expired one is taken over, and the old holder can neither renew nor release it", async () => {
        const client = new DynamoDBClient({});
        const key = rolloutLockKey("dev", "web");
        assert.equal(key, "rollout/dev/web");
        // The first run creates the table.
        const first = await acquireLock(client, key, "alice@laptop (pid 1)", () => T0);
        assert.ok(first.ok);
        const refused = await acquireLock(client, key, "ci@runner (pid 2)", () => T0 + 60_000);
        assert.deepEqual(refused, {
            ok: false,
            holder: { owner: "alice@laptop (pid 1)", since: "2026-03-01T10:00:00.000Z", expires: "2026-03-01T10:02:00.000Z" },
        });
        // Another service of the same stack is another lock.
        const other = await acquireLock(client, rolloutLockKey("dev", "api"), "ci@runner (pid 2)", () => T0 + 60_000);
        assert.ok(other.ok);
        // Past the expiry without a renewal (a run killed with kill -9): the next run takes it over.
        const takeover = await acquireLock(client, key, "ci@runner (pid 3)", () => T0 + (LOCK_TTL_SECONDS + 1) * 1000);
        assert.ok(takeover.ok);
        assert.equal(await first.lock.renew(), false);
        await first.lock.release();
        const stillHeld = await acquireLock(client, key, "bob@desk (pid 4)", () => T0 + (LOCK_TTL_SECONDS + 2) * 1000);
        assert.equal(stillHeld.ok, false);
        assert.equal(!stillHeld.ok && stillHeld.holder?.owner, "ci@runner (pid 3)");
        // Renewed, then released by its holder: free again.
        assert.equal(await takeover.lock.renew(), true);
        await takeover.lock.release();
        const free = await acquireLock(client, key, "bob@desk (pid 4)", () => T0 + (LOCK_TTL_SECONDS + 3) * 1000);
        assert.ok(free.ok);
    });
});
