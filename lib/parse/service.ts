/** `switchyard:service`: the container, its size, capacity, health gate and ECS rollout settings. */
import { Autoscaling, ServiceSettings } from "../model";
import { Problems } from "../problems";
import { SERVICE_NAME_MAX_LENGTH, reservedPrefixesOf } from "./names";

/**
 * The memory sizes (MiB) Fargate accepts for each task cpu size (CPU units): any other pair fails
 * RegisterTaskDefinition ("Invalid 'cpu' setting for task"). From the table in
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size
 * (and https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html),
 * and the `memory` documentation of RegisterTaskDefinitionRequest in botocore's
 * data/ecs/2014-11-13/service-2.json, which test/reality/apiModels.test.ts reads and compares
 * with this table. With 256 CPU units only 512, 1024 and 2048 exist (not 1536).
 */
export const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
    256: [512, 1024, 2048],
    512: steps(1024, 4096, 1024),
    1024: steps(2048, 8192, 1024),
    2048: steps(4096, 16384, 1024),
    4096: steps(8192, 30720, 1024),
    8192: steps(16384, 61440, 4096),
    16384: steps(32768, 122880, 8192),
};

function steps(min: number, max: number, step: number): number[] {
    return Array.from({ length: (max - min) / step + 1 }, (_, i) => min + i * step);
}

/** "512, 1024 or 2048", or "8192 to 30720 in steps of 1024" for a long evenly spaced list. */
function describeMemory(values: readonly number[]): string {
    if (values.length <= 4) return `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]}`;
    return `${values[0]} to ${values[values.length - 1]} in steps of ${values[1] - values[0]}`;
}

/** A service name (`service.name`, or a key of `switchyard:services`). */
export const SERVICE_NAME = {
    // The ECR repository is named `<name>-image-repo-<random>`, and ECR allows no doubled or
    // trailing separator: (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*
    // (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html).
    pattern: new RegExp(`^(?=.{1,${SERVICE_NAME_MAX_LENGTH}}$)[a-z](-?[a-z0-9])*$`),
    hint:
        `must be 1-${SERVICE_NAME_MAX_LENGTH} lowercase letters, digits or single hyphens, starting with a letter and not ending ` +
        `with a hyphen (it prefixes resource names; the green target group's generated name must fit AWS's 32 characters)`,
};

export function parseService(p: Problems, value: unknown): ServiceSettings | undefined {
    const key = "switchyard:service";
    if (value === undefined || value === null) {
        p.add(`${key} is required; set at least ${key}.name (e.g. name: web)`);
        return undefined;
    }
    const s = p.object(key, value, [
        "name",
        "port",
        "healthCheckPath",
        "cpu",
        "memory",
        "desiredCount",
        "idleCount",
        "minHealthyTargets",
        "gateTimeoutSeconds",
        "gateProbePath",
        "deploymentMinimumHealthyPercent",
        "deploymentMaximumPercent",
        "stopTimeoutSeconds",
        "deregistrationDelaySeconds",
        "autoscaling",
    ]);
    if (!s) return undefined;
    const before = p.count;
    const name = p.string(`${key}.name`, s.name, SERVICE_NAME);
    if (s.name === undefined) p.add(`${key}.name is required (e.g. name: web)`);
    for (const reserved of name === undefined ? [] : reservedPrefixesOf(name)) {
        p.add(
            `${key}.name '${name}' would give the ${reserved.what} a name starting with '${reserved.prefix}', which AWS refuses; ` +
                `pick a name that is not '${reserved.prefix.slice(0, -1)}' and does not start with '${reserved.prefix}'`,
        );
    }
    const port = p.int(`${key}.port`, s.port, { min: 1, max: 65535, default: 8080 });
    const healthCheckPath =
        p.string(`${key}.healthCheckPath`, s.healthCheckPath, { pattern: /^\/\S{0,1023}$/, hint: "must be a path starting with /" }) ??
        "/healthz";
    const cpu = p.int(`${key}.cpu`, s.cpu, { min: 256, max: 16384, default: 256 });
    if (!(cpu in FARGATE_MEMORY)) p.add(`${key}.cpu must be a Fargate size: ${Object.keys(FARGATE_MEMORY).join(", ")} (got ${cpu})`);
    const memory = p.int(`${key}.memory`, s.memory, { min: 512, max: 122880, default: 512 });
    const sizes = FARGATE_MEMORY[cpu];
    if (sizes && !sizes.includes(memory)) {
        p.add(`${key}.memory ${memory} does not fit ${key}.cpu ${cpu}: Fargate takes ${describeMemory(sizes)} MiB with cpu ${cpu}`);
    }
    const desiredCount = p.int(`${key}.desiredCount`, s.desiredCount, { min: 1, max: 1000, default: 2 });
    const idleCount = p.int(`${key}.idleCount`, s.idleCount, { min: 0, max: 1000, default: 0 });
    if (idleCount > desiredCount) p.add(`${key}.idleCount (${idleCount}) must not exceed ${key}.desiredCount (${desiredCount})`);
    const minHealthyTargets = p.int(`${key}.minHealthyTargets`, s.minHealthyTargets, { min: 1, max: 1000, default: desiredCount });
    if (minHealthyTargets > desiredCount) {
        p.add(
            `${key}.minHealthyTargets (${minHealthyTargets}) must not exceed ${key}.desiredCount (${desiredCount}): the gate could never pass`,
        );
    }
    const gateTimeoutSeconds = p.int(`${key}.gateTimeoutSeconds`, s.gateTimeoutSeconds, { min: 1, max: 3600, default: 600 });
    const gateProbePath = p.string(`${key}.gateProbePath`, s.gateProbePath, {
        pattern: /^\/\S{0,1023}$/,
        hint: "must be a path starting with /",
    });
    const deploymentMinimumHealthyPercent = p.int(`${key}.deploymentMinimumHealthyPercent`, s.deploymentMinimumHealthyPercent, {
        min: 0,
        max: 100,
        default: 100,
    });
    const deploymentMaximumPercent = p.int(`${key}.deploymentMaximumPercent`, s.deploymentMaximumPercent, {
        min: 100,
        max: 200,
        default: 200,
    });
    if (deploymentMinimumHealthyPercent === 100 && deploymentMaximumPercent === 100) {
        p.add(
            `${key}.deploymentMaximumPercent must be above 100 when deploymentMinimumHealthyPercent is 100, or ECS can never replace a task`,
        );
    }
    const stopTimeoutSeconds = p.int(`${key}.stopTimeoutSeconds`, s.stopTimeoutSeconds, { min: 2, max: 120, default: 30 });
    const deregistrationDelaySeconds = p.int(`${key}.deregistrationDelaySeconds`, s.deregistrationDelaySeconds, {
        min: 0,
        max: 3600,
        default: 30,
    });
    const autoscaling = parseAutoscaling(p, s.autoscaling, desiredCount);
    if (autoscaling && minHealthyTargets > autoscaling.min) {
        // A colour warmed from idle runs autoscaling.min tasks (RegisterScalableTarget moves its
        // capacity into min..max; the service's desiredCount is ignored), so the gate could never pass.
        p.add(
            `${key}.minHealthyTargets (${minHealthyTargets}) must not exceed ${key}.autoscaling.min (${autoscaling.min}): ` +
                `a colour started from idle runs autoscaling.min tasks; lower minHealthyTargets or raise autoscaling.min`,
        );
    }
    if (p.count > before || name === undefined) return undefined;
    return {
        name,
        port,
        healthCheckPath,
        cpu,
        memory,
        desiredCount,
        idleCount,
        minHealthyTargets,
        gateTimeoutSeconds,
        gateProbePath,
        deploymentMinimumHealthyPercent,
        deploymentMaximumPercent,
        stopTimeoutSeconds,
        deregistrationDelaySeconds,
        autoscaling,
    };
}

function parseAutoscaling(p: Problems, value: unknown, desiredCount: number): Autoscaling | undefined {
    const key = "switchyard:service.autoscaling";
    const a = p.object(key, value, ["min", "max", "requestsPerTarget", "cpuPercent"]);
    if (!a) return undefined;
    const min = p.int(`${key}.min`, a.min, { min: 1, max: 1000 });
    const max = p.int(`${key}.max`, a.max, { min: 1, max: 1000 });
    if (a.min === undefined) p.add(`${key}.min is required (the fewest tasks of a colour with traffic)`);
    if (a.max === undefined) p.add(`${key}.max is required (the most tasks of a colour with traffic)`);
    if (min !== undefined && max !== undefined && min > max) p.add(`${key}.min (${min}) must not exceed ${key}.max (${max})`);
    if (min !== undefined && max !== undefined && (desiredCount < min || desiredCount > max)) {
        p.add(`switchyard:service.desiredCount (${desiredCount}) must lie within ${key}.min..max (${min}..${max})`);
    }
    const requestsPerTarget = p.int(`${key}.requestsPerTarget`, a.requestsPerTarget, { min: 1, max: 1000000 });
    const cpuPercent = p.int(`${key}.cpuPercent`, a.cpuPercent, { min: 10, max: 95 });
    if ((a.requestsPerTarget === undefined) === (a.cpuPercent === undefined)) {
        p.add(`${key}: set exactly one of requestsPerTarget or cpuPercent`);
    }
    if (min === undefined || max === undefined) return undefined;
    return { min, max, requestsPerTarget, cpuPercent };
}
