/**
 * The one place that builds AWS clients, so every call has a timeout: a hung endpoint (a proxy
 * that accepts and never answers, a black-holed network) becomes a failed call within a known
 * time instead of freezing rollout with traffic on the candidate, or holding the health gate past
 * its own deadline.
 *
 * Three bounds, from the inside out:
 * - `connectMs`: the TCP (and TLS) connection (NodeHttpHandler `connectionTimeout`);
 * - `attemptMs`: one attempt, request to full response (NodeHttpHandler `requestTimeout`). In
 *   @smithy/node-http-handler 4.x a breached requestTimeout only logs a warning unless
 *   `throwOnRequestTimeout` is true ("Because requestTimeout was for a long time incorrectly being
 *   set as a socket idle timeout, users must also opt-in for request timeout thrown errors":
 *   node_modules/@smithy/types/dist-types/http/httpHandlerInitialization.d.ts), so it is set;
 * - `callMs`: the whole call, every retry and its back-off included. The SDK retries a
 *   `TimeoutError` as transient (TRANSIENT_ERROR_CODES in
 *   node_modules/@smithy/core/dist-es/submodules/retry/service-error-classification/constants.js),
 *   up to maxAttempts (3 by default), so attempts alone would allow 3 x attemptMs and more.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { SNSClient } from "@aws-sdk/client-sns";

export interface AwsTimeouts {
    /** Connecting to the endpoint. */
    readonly connectMs: number;
    /** One attempt, from the request to the whole response. */
    readonly attemptMs: number;
    /** One call, every attempt and back-off included: the caller gets an answer or an error by then. */
    readonly callMs: number;
}

/** A poll every 30 s (analysis.intervalSeconds) can afford a 10 s call; a healthy AWS answers in well under 1 s. */
export const AWS_TIMEOUTS: AwsTimeouts = { connectMs: 3000, attemptMs: 5000, callMs: 10000 };

/** The error of a call that did not end within `callMs`; awsCall names the API it belongs to. */
export class CallTimeout extends Error {
    constructor(public readonly ms: number) {
        super(`no answer within ${ms / 1000} s (the endpoint is unreachable or hung)`);
        this.name = "CallTimeout";
    }
}

interface ClientConfig {
    readonly region?: string;
    readonly requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: true };
}

function clientConfig(region: string | undefined, t: AwsTimeouts): ClientConfig {
    return {
        region,
        // The client wraps these options in its NodeHttpHandler (NodeHttpHandler.create in the client's runtimeConfig).
        requestHandler: { connectionTimeout: t.connectMs, requestTimeout: t.attemptMs, throwOnRequestTimeout: true },
    };
}

/** Any SDK v3 client: what the deadline middleware needs of it. */
interface SdkClient {
    readonly middlewareStack: {
        add(
            middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
            options: { step: "initialize"; name: string; priority: "high" },
        ): void;
    };
}

/**
 * Ends every call of `client` within `ms`: a middleware at the outermost step (before the retry
 * middleware), so retries and their back-off are inside the bound. The abandoned request itself
 * still ends by its attempt timeout; `destroy()` on the client closes its sockets at once.
 */
function withCallDeadline<C>(client: C, ms: number): C {
    (client as unknown as SdkClient).middlewareStack.add(
        (next) => (args) =>
            new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new CallTimeout(ms)), ms);
                next(args).then(
                    (value) => {
                        clearTimeout(timer);
                        resolve(value);
                    },
                    (err: unknown) => {
                        clearTimeout(timer);
                        reject(err);
                    },
                );
            }),
        { step: "initialize", name: "switchyardCallDeadline", priority: "high" },
    );
    return client;
}

export function cloudwatchClient(region?: string, t: AwsTimeouts = AWS_TIMEOUTS): CloudWatchClient {
    return withCallDeadline(new CloudWatchClient(clientConfig(region, t)), t.callMs);
}

export function elbv2Client(region?: string, t: AwsTimeouts = AWS_TIMEOUTS): ElasticLoadBalancingV2Client {
    return withCallDeadline(new ElasticLoadBalancingV2Client(clientConfig(region, t)), t.callMs);
}

export function snsClient(region?: string, t: AwsTimeouts = AWS_TIMEOUTS): SNSClient {
    return withCallDeadline(new SNSClient(clientConfig(region, t)), t.callMs);
}

export function dynamodbClient(region?: string, t: AwsTimeouts = AWS_TIMEOUTS): DynamoDBClient {
    return withCallDeadline(new DynamoDBClient(clientConfig(region, t)), t.callMs);
}

/**
 * Settles as `work` does, or rejects with `onLate()` once `ms` have passed, whichever comes first:
 * a caller with its own deadline (the health gate) is never held past it by a call in flight.
 */
export function beforeDeadline<T>(work: Promise<T>, ms: number, onLate: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(onLate()), Math.max(0, ms));
        work.then(
            (value) => {
                clearTimeout(timer);
                resolve(value);
            },
            (err: unknown) => {
                clearTimeout(timer);
                reject(err);
            },
        );
    });
}
