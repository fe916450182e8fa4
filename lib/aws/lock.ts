/**
 * One rollout per stack and service at a time, wherever it runs (another terminal, another
 * machine, the pipeline): the ownership is an item in a DynamoDB table that a workstation and CI
 * both reach, written with a conditional PutItem. DynamoDB evaluates a write's ConditionExpression
 * against the item as it is and writes only when it holds ("You can perform a conditional put
 * operation (add a new item if one with the specified primary key doesn't exist), or replace an
 * existing item if it has certain attribute values": PutItem in botocore's
 * data/dynamodb/2012-08-10/service-2.json), so `attribute_not_exists(lock) OR expiresAt < :now`
 * is a compare-and-set: of two runs, exactly one gets the lock, and a lock whose run died (its
 * expiry passed without a renewal) is taken over by the next run.
 *
 * The table (`switchyard-locks`, key `lock`, on-demand) is created by the tool on first use, so a
 * rollout needs no stack change; it holds one small item per stack and service while a rollout
 * runs. IAM actions (docs/rollout.md "One rollout at a time"): dynamodb:PutItem, GetItem,
 * UpdateItem, DeleteItem, DescribeTable and (first use only) CreateTable on
 * arn:aws:dynamodb:<region>:<account>:table/switchyard-locks.
 */
import {
    ConditionalCheckFailedException,
    CreateTableCommand,
    DeleteItemCommand,
    DynamoDBClient,
    GetItemCommand,
    PutItemCommand,
    ResourceInUseException,
    ResourceNotFoundException,
    UpdateItemCommand,
    waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import { awsCall } from "./errors";

export const LOCK_TABLE = "switchyard-locks";
/** A lock not renewed for this long is free for the next run: a killed run holds its stack at most this long. */
export const LOCK_TTL_SECONDS = 120;
/** Renewed this often, so a few failed renewals in a row still keep it. */
export const LOCK_RENEW_SECONDS = 30;

/** Who holds a lock, as the refusal names them. */
export interface LockHolder {
    /** `user@host (pid N)`, plus the CI run's URL when it runs in GitHub Actions. */
    readonly owner: string;
    /** ISO time the lock was taken. */
    readonly since: string;
    /** ISO time it expires unless renewed. */
    readonly expires: string;
}

export type Acquired = { readonly ok: true; readonly lock: HeldLock } | { readonly ok: false; readonly holder: LockHolder | undefined };

/** The item key of a stack's service: alarm names already make stack and service unique per region. */
export function rolloutLockKey(stack: string, service: string): string {
    return `rollout/${stack}/${service}`;
}

/**
 * Takes the lock `key` for `owner`, or says who holds it (undefined: it was released between the
 * refused write and the read). Creates the table on first use.
 */
export async function acquireLock(client: DynamoDBClient, key: string, owner: string, nowMs: () => number = Date.now): Promise<Acquired> {
    const token = randomUUID();
    const put = () => {
        const now = nowMs();
        return client.send(
            new PutItemCommand({
                TableName: LOCK_TABLE,
                Item: {
                    lock: { S: key },
                    owner: { S: owner },
                    since: { S: new Date(now).toISOString() },
                    expiresAt: { N: String(Math.floor(now / 1000) + LOCK_TTL_SECONDS) },
                    token: { S: token },
                },
                ConditionExpression: "attribute_not_exists(#lock) OR #expiresAt < :now",
                ExpressionAttributeNames: { "#lock": "lock", "#expiresAt": "expiresAt" },
                ExpressionAttributeValues: { ":now": { N: String(Math.floor(now / 1000)) } },
            }),
        );
    };
    try {
        await awsCall("dynamodb:PutItem", async () => {
            try {
                await put();
            } catch (e) {
                if (!(e instanceof ResourceNotFoundException)) throw e;
                await createTable(client);
                await put();
            }
        });
    } catch (e) {
        if (!isConditionFailed(e)) throw e;
        return { ok: false, holder: await readHolder(client, key) };
    }
    return { ok: true, lock: new HeldLock(client, key, token, nowMs) };
}

/** A lock this run holds: renew it while running, release it at the end. */
export class HeldLock {
    constructor(
        private readonly client: DynamoDBClient,
        readonly key: string,
        private readonly token: string,
        private readonly nowMs: () => number,
    ) {}

    /** Pushes the expiry out; false when the lock is no longer this run's (it expired and another run took it). */
    async renew(): Promise<boolean> {
        try {
            await awsCall("dynamodb:UpdateItem", () =>
                this.client.send(
                    new UpdateItemCommand({
                        TableName: LOCK_TABLE,
                        Key: { lock: { S: this.key } },
                        UpdateExpression: "SET #expiresAt = :expiresAt",
                        ConditionExpression: "#token = :token",
                        ExpressionAttributeNames: { "#expiresAt": "expiresAt", "#token": "token" },
                        ExpressionAttributeValues: {
                            ":expiresAt": { N: String(Math.floor(this.nowMs() / 1000) + LOCK_TTL_SECONDS) },
                            ":token": { S: this.token },
                        },
                    }),
                ),
            );
            return true;
        } catch (e) {
            if (isConditionFailed(e)) return false;
            throw e;
        }
    }

    /** Deletes the item if it is still this run's (a lock another run took over is left to it). */
    async release(): Promise<void> {
        try {
            await awsCall("dynamodb:DeleteItem", () =>
                this.client.send(
                    new DeleteItemCommand({
                        TableName: LOCK_TABLE,
                        Key: { lock: { S: this.key } },
                        ConditionExpression: "#token = :token",
                        ExpressionAttributeNames: { "#token": "token" },
                        ExpressionAttributeValues: { ":token": { S: this.token } },
                    }),
                ),
            );
        } catch (e) {
            if (!isConditionFailed(e)) throw e;
        }
    }
}

async function readHolder(client: DynamoDBClient, key: string): Promise<LockHolder | undefined> {
    const out = await awsCall("dynamodb:GetItem", () =>
        client.send(new GetItemCommand({ TableName: LOCK_TABLE, Key: { lock: { S: key } }, ConsistentRead: true })),
    );
    const item = out.Item;
    if (!item) return undefined;
    return {
        owner: item.owner?.S ?? "unknown",
        since: item.since?.S ?? "unknown",
        expires: item.expiresAt?.N ? new Date(Number(item.expiresAt.N) * 1000).toISOString() : "unknown",
    };
}

/** On-demand, so an idle table costs nothing; a run racing this one may be creating it too. */
async function createTable(client: DynamoDBClient): Promise<void> {
    try {
        await client.send(
            new CreateTableCommand({
                TableName: LOCK_TABLE,
                AttributeDefinitions: [{ AttributeName: "lock", AttributeType: "S" }],
                KeySchema: [{ AttributeName: "lock", KeyType: "HASH" }],
                BillingMode: "PAY_PER_REQUEST",
            }),
        );
    } catch (e) {
        if (!(e instanceof ResourceInUseException)) throw e;
    }
    // A new table is CREATING for a few seconds; the TableExists waiter polls DescribeTable until ACTIVE.
    await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 5 }, { TableName: LOCK_TABLE });
}

function isConditionFailed(e: unknown): boolean {
    if (e instanceof ConditionalCheckFailedException) return true;
    return (e as { code?: string })?.code === "ConditionalCheckFailedException";
}
