/**
 * What the rollout tests need of CloudWatch on moto, in one place.
 * - moto computes no percentiles: GetMetricData with `p99` fails (moto/cloudwatch/models.py returns
 *   None, then HTTP 500), so the client asks for Maximum where rollout asks for p99.
 * - The alarms monitoring creates, by the exact names rollout reads (lib/alarms.ts); moto stores
 *   them and evaluates none, so tests move them with SetAlarmState.
 */
import { CloudWatchClient, GetMetricDataCommandInput, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import { colorAlarmNames } from "../../lib/alarms";
import { Color } from "../../lib/model";

/** `client`, asking for Maximum where rollout asks for p99; `observe` sees each request's input (and command) first. */
export function askMaximumForP99(client: CloudWatchClient, observe?: (input: unknown, commandName: string) => void): CloudWatchClient {
    client.middlewareStack.add(
        (next, context) => async (args) => {
            observe?.(args.input, context.commandName ?? "?");
            const input = args.input as GetMetricDataCommandInput;
            if (!input.MetricDataQueries) return next(args);
            const adapted = input.MetricDataQueries.map((q) =>
                q.MetricStat?.Stat === "p99" ? { ...q, MetricStat: { ...q.MetricStat, Stat: "Maximum" } } : q,
            );
            return next({ ...args, input: { ...input, MetricDataQueries: adapted } });
        },
        { step: "initialize" },
    );
    return client;
}

/** Every alarm of each service's colours, named as components/monitoring.ts names them (OK until a test moves one). */
export async function putServiceAlarms(
    client: CloudWatchClient,
    stack: string,
    services: readonly string[],
    colors: readonly Color[] = ["blue", "green"],
): Promise<void> {
    for (const service of services)
        for (const color of colors)
            for (const AlarmName of colorAlarmNames(stack, service, color))
                await client.send(
                    new PutMetricAlarmCommand({
                        AlarmName,
                        Namespace: "AWS/ApplicationELB",
                        MetricName: "HTTPCode_Target_5XX_Count",
                        Statistic: "Sum",
                        Period: 60,
                        EvaluationPeriods: 1,
                        Threshold: 10,
                        ComparisonOperator: "GreaterThanOrEqualToThreshold",
                    }),
                );
}
