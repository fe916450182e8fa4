/**
 * Turns the AWS SDK's failures into one-line errors a user can act on. Every AWS call in
 * lib/aws goes through `awsCall`, so a missing credential or a refused permission names the
 * API call instead of surfacing as a stack trace.
 */

/** An AWS call failed in a way the user must fix (credentials, permissions, a missing resource). */
export class AwsError extends Error {
    constructor(
        message: string,
        /** The SDK error name or code (`AccessDenied`, `CredentialsProviderError`, ...). */
        public readonly code: string,
    ) {
        super(message);
        this.name = "AwsError";
    }
}

const ACCESS_DENIED = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"]);
const BAD_CREDENTIALS = new Set([
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
]);

/** Runs one AWS SDK call; `api` names it (`elbv2:DescribeTargetHealth`) in any error. */
export async function awsCall<T>(api: string, call: () => Promise<T>): Promise<T> {
    try {
        return await call();
    } catch (err) {
        throw translate(api, err);
    }
}

/** The user-facing error for a failed call; unknown errors keep their message, prefixed by the call. */
export function translate(api: string, err: unknown): Error {
    if (err instanceof AwsError) return err;
    const e = err as { name?: string; Code?: string; message?: string };
    const code = e?.Code ?? e?.name ?? "Error";
    const detail = e?.message ?? String(err);
    if (e?.name === "CredentialsProviderError" || /Could not load credentials/i.test(detail)) {
        return new AwsError(
            `no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), then retry (${api} could not sign its request)`,
            "CredentialsProviderError",
        );
    }
    if (ACCESS_DENIED.has(code)) {
        return new AwsError(`AWS refused ${api} (${code}): grant the caller ${api} permission. ${detail}`, code);
    }
    if (BAD_CREDENTIALS.has(code)) {
        return new AwsError(`AWS rejected the credentials on ${api} (${code}): check AWS_PROFILE or the access keys. ${detail}`, code);
    }
    return new AwsError(`${api} failed (${code}): ${detail}`, code);
}
