/**
 * `switchyard:trains`: services released together, one edit of the stack file and one `pulumi up`
 * per step. A train lists its services in release order (a service after those its builds
 * require), and its steps have the shape of `switchyard:rollout.steps` (lib/parse/rollout.ts).
 */
import { COLORS, Train } from "../model";
import { KeyNamespace, Problems, describe } from "../problems";
import { ServiceSpec } from "../stackSpec";
import { parseRollout } from "./rollout";

export const TRAINS_KEY = "switchyard:trains";

/** Given to `--train` and written in commit messages and notifications: a plain word. */
export const TRAIN_NAME = /^[a-z](-?[a-z0-9]){0,62}$/;

/** A train needs at least this many services: with one, `rollout --service` is the same release. */
export const MIN_TRAIN_SERVICES = 2;

/**
 * `names`: the stack's services in file order; `services`: those that parsed (the order check
 * reads their builds' `requires`). A service may be in one train only: a service has one
 * candidate colour and one traffic state, so two trains would move the same traffic.
 */
export function parseTrains(p: Problems, value: unknown, names: readonly string[], services: readonly ServiceSpec[]): Train[] {
    const entries = p.object(TRAINS_KEY, value, Object.keys((value as object) ?? {}));
    if (!entries) return [];
    if (Object.keys(entries).length === 0) p.add(`${TRAINS_KEY} must name at least one train, or be removed`);
    const trains: Train[] = [];
    const trainOf = new Map<string, string>();
    for (const [name, entry] of Object.entries(entries)) {
        const before = p.count;
        const train = parseTrain(p, name, entry, names, services);
        for (const service of train?.services ?? []) {
            const other = trainOf.get(service);
            if (other !== undefined) {
                p.add(
                    `${TRAINS_KEY}.${name}.services: ${service} is in train ${other} too; a service has one candidate colour, so ` +
                        `two trains would move the same traffic: keep ${service} in one train`,
                );
            } else {
                trainOf.set(service, name);
            }
        }
        if (train && p.count === before) trains.push(train);
    }
    return trains;
}

function parseTrain(
    p: Problems,
    name: string,
    value: unknown,
    names: readonly string[],
    services: readonly ServiceSpec[],
): Train | undefined {
    const key = `${TRAINS_KEY}.${name}`;
    if (!TRAIN_NAME.test(name)) {
        p.add(
            `${key}: a train's name is given to --train and names its commits, so it must be 1-63 lowercase letters, digits or ` +
                `single hyphens, starting with a letter and not ending with a hyphen; rename the key`,
        );
    }
    const t = p.object(key, value, ["services", "steps"]);
    if (!t) return undefined;
    const members = parseMembers(p, `${key}.services`, t.services, names);
    if (members) checkOrder(p, `${key}.services`, members, services);
    const steps = parseSteps(p, `${key}.steps`, t.steps);
    return members ? { name, services: members, steps } : undefined;
}

function parseMembers(p: Problems, key: string, value: unknown, names: readonly string[]): string[] | undefined {
    if (value === undefined) {
        p.add(
            `${key} is required: the services this train releases, in order (a service after those it requires), e.g. services: [api, web]`,
        );
        return undefined;
    }
    if (!Array.isArray(value) || value.some((s) => typeof s !== "string")) {
        p.add(`${key} must be a list of service names, e.g. [api, web] (got ${describe(value)})`);
        return undefined;
    }
    const members = value as string[];
    const before = p.count;
    members.forEach((service, i) => {
        if (!names.includes(service)) {
            p.add(`${key}[${i}] '${service}' is not a service of this stack; use one of: ${names.join(", ")}`);
        }
        const first = members.indexOf(service);
        if (first < i) p.add(`${key}[${i}] '${service}' is listed twice (also ${key}[${first}]); list each service once`);
    });
    if (new Set(members).size < MIN_TRAIN_SERVICES) {
        p.add(
            `${key} must list at least ${MIN_TRAIN_SERVICES} services: a train releases services together; ` +
                `for one service use rollout --service ${members[0] ?? "<name>"}`,
        );
    }
    return p.count === before ? members : undefined;
}

/** A member after every member its builds (any slot) require: the order the train moves them in. */
function checkOrder(p: Problems, key: string, members: readonly string[], services: readonly ServiceSpec[]): void {
    members.forEach((member, i) => {
        const spec = services.find((s) => s.service.name === member);
        if (!spec) return;
        const required = new Set(COLORS.flatMap((c) => Object.keys(spec.slots[c]?.requires ?? {})));
        for (const later of members.slice(i + 1)) {
            if (!required.has(later)) continue;
            const mutual = services.find((s) => s.service.name === later);
            const cycle = COLORS.some((c) => mutual?.slots[c]?.requires?.[member] !== undefined);
            p.add(
                cycle
                    ? `${key}: ${member} and ${later} require each other, so neither can move first; ` +
                          `remove one of the requirements (a build of one must accept both versions of the other)`
                    : `${key}: ${member} is listed before ${later}, which its builds require; a service moves after those it ` +
                          `requires: list ${later} before ${member}`,
            );
        }
    });
}

/** The shape of `switchyard:rollout.steps`, parsed by its parser, named where they are; its default when absent. */
function parseSteps(p: Problems, key: string, value: unknown): Train["steps"] {
    const here: KeyNamespace = (message) => message.split("switchyard:rollout.steps").join(key);
    const steps = new Problems(here);
    const parsed = parseRollout(steps, value === undefined ? undefined : { steps: value }, "blue-green").steps;
    for (const problem of steps.all) p.add(problem);
    return parsed;
}
