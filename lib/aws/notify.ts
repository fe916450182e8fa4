/**
 * Rollout notifications: one SNS Publish per topic for the start, each step, a rollback and the
 * end. A notification that cannot be sent is reported, never a reason to stop a rollout.
 */
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { awsCall } from "./errors";

/**
 * Publish's Subject: "UTF-8 text with no line breaks or control characters, and less than 100
 * characters long" (the PublishInput doc in @aws-sdk/client-sns; https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
 */
const MAX_SUBJECT = 99;

export function snsSubject(subject: string): string {
    // eslint-disable-next-line no-control-regex
    const clean = subject.replace(/[\u0000-\u001f\u007f]/g, " ");
    return clean.length > MAX_SUBJECT ? `${clean.slice(0, MAX_SUBJECT - 3)}...` : clean;
}

/** Publishes to every topic; resolves to one line per topic that failed (empty when all were sent). */
export async function publish(client: SNSClient, topics: readonly string[], subject: string, message: string): Promise<string[]> {
    const failures: string[] = [];
    for (const topic of topics) {
        try {
            await awsCall("sns:Publish", () =>
                client.send(new PublishCommand({ TopicArn: topic, Subject: snsSubject(subject), Message: message })),
            );
        } catch (e) {
            failures.push(`could not notify ${topic}: ${(e as Error).message}`);
        }
    }
    return failures;
}
