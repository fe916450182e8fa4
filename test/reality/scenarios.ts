/**
 * Every configuration the reality tests check, each evaluated once and shared by all of them:
 * the committed stack files as the engine hands them to the program (Pulumi.yaml's defaults
 * applied), and fast-check generated stacks at AWS's limits (a service name of the maximum
 * length, routes with the most values, wildcards and pattern length a rule allows).
 */
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseConfig, rawFromPulumiConfig } from "../../lib/config";
import { cookieRegex } from "../../lib/parse/albRules";
import { SERVICE_NAME_MAX_LENGTH } from "../../lib/parse/names";
import { applyProjectConfig } from "../../lib/parse/projectConfig";
import { digest, stackConfig } from "../helpers/configs";
import { Evaluation, evaluate, flatten, ROOT } from "../helpers/program";

export interface Scenario {
    readonly title: string;
    readonly stack: string;
    /** A stack file's `config:` map, as the program receives it. */
    readonly config: Record<string, unknown>;
}

export const PROJECT = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string; config?: Record<string, unknown> };

/** Every committed `Pulumi.<stack>.yaml`. */
export function committedStackNames(): string[] {
    return readdirSync(ROOT)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

export function committedScenarios(): Scenario[] {
    return committedStackNames().map((stack) => {
        const file = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
        const { config } = applyProjectConfig(PROJECT.name, PROJECT.config ?? {}, stack, file.config);
        return { title: `Pulumi.${stack}.yaml`, stack, config };
    });
}

const maxName = fc
    .stringMatching(new RegExp(`^[a-z]([a-z0-9]|-[a-z0-9]){${SERVICE_NAME_MAX_LENGTH - 1}}$`))
    .filter((n) => n.length === SERVICE_NAME_MAX_LENGTH);
const value128 = fc.stringMatching(/^[a-z0-9]{120,128}$/);
const cidr = fc.tuple(fc.nat(223), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `${a + 1}.${b}.${c}.0/24`);
const host = fc.stringMatching(/^[a-z0-9-]{1,100}\.example\.com$/);
const color = fc.constantFrom("blue", "green");

/** The longest cookie name and value whose regex is exactly the 128 characters the ALB allows. */
const COOKIE_OVERHEAD = cookieRegex("", "").length;
const cookieAtLimit = fc
    .integer({ min: 1, max: 40 })
    .chain((n) =>
        fc.tuple(fc.stringMatching(new RegExp(`^[a-z]{${n}}$`)), fc.stringMatching(new RegExp(`^[a-z0-9]{${128 - COOKIE_OVERHEAD - n}}$`))),
    );

/** One route at each of the ALB's limits (values per condition, per rule, wildcards, length). */
const routesAtLimits = fc.tuple(
    fc.record({
        color,
        header: fc.record({ name: fc.constant("x-beta-user"), values: fc.array(value128, { minLength: 3, maxLength: 3 }) }),
    }),
    fc.record({ color, header: fc.constant({ name: "x-user", values: ["*a*", "b?*", "?c"] }) }),
    fc.record({ color, sourceIps: fc.uniqueArray(cidr, { minLength: 3, maxLength: 3 }) }),
    fc.record({ color, hosts: fc.uniqueArray(host, { minLength: 3, maxLength: 3 }) }),
    fc.record({
        color,
        query: fc
            .uniqueArray(fc.stringMatching(/^[a-z]{1,20}$/), { minLength: 5, maxLength: 5 })
            .map((ks) => Object.fromEntries(ks.map((k) => [k, `v-${k}`]))),
    }),
    fc.record({ color, cookie: cookieAtLimit.map(([name, value]) => ({ name, value })) }),
    fc.record({
        color,
        header: fc.constant({ name: "x-tier", values: ["gold*", "plat?num"] }),
        cookie: fc.constant({ name: "beta", value: "1" }),
        sourceIps: fc.constant(["203.0.113.0/24"]),
        hosts: fc.constant(["*.example.com"]),
    }),
);

const generatedRaw = fc
    .record({
        name: maxName,
        autoscaling: fc.boolean(),
        build: fc.boolean(),
        canary: fc.option(fc.integer({ min: 1, max: 99 }), { nil: undefined }),
        routes: routesAtLimits.chain((routes) => fc.shuffledSubarray([...routes], { minLength: routes.length })),
    })
    .map(({ name, autoscaling, build, canary, routes }) => ({
        service: {
            name,
            desiredCount: 2,
            ...(autoscaling ? { autoscaling: { min: 2, max: 6, cpuPercent: 60 } } : {}),
            gateProbePath: "/version",
        },
        slots: { blue: { image: digest("a") }, green: build ? { build: "./app" } : { image: digest("b") } },
        traffic: { live: "blue", routes, ...(canary ? { canary: { percent: canary } } : {}) },
        testAccess: { cidrs: ["203.0.113.0/24"] },
    }));

/** Every other generated stack serves HTTPS (where the gate cannot probe: see lib/config.ts). */
function withHttps(raw: ReturnType<typeof sampleRaw>[number]): Record<string, unknown> {
    const { gateProbePath: _probe, ...service } = raw.service;
    return { ...raw, service, https: { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" } };
}

const sampleRaw = () => fc.sample(generatedRaw, { seed: 20261129, numRuns: 6 });

export function generatedScenarios(): Scenario[] {
    const samples = sampleRaw().map((raw, i) => (i % 2 === 1 ? withHttps(raw) : raw));
    const rolling = { strategy: "rolling", service: { name: "a".repeat(SERVICE_NAME_MAX_LENGTH) }, slots: { green: { build: "./app" } } };
    const scenarios = [
        ...samples.map((raw, i) => ({
            title: `generated #${i}${"https" in raw ? " (HTTPS)" : ""}`,
            stack: "dev",
            config: stackConfig(raw),
        })),
        { title: "generated rolling stack", stack: "dev", config: stackConfig(rolling) },
    ];
    // A generator that drifts into invalid stacks would test nothing: parseConfig throws here.
    for (const s of scenarios) parseConfig(rawFromPulumiConfig(flatten(s.config)), s.stack);
    return scenarios;
}

export interface Evaluated extends Scenario {
    readonly evaluation: Evaluation;
}

let cached: Promise<Evaluated[]> | undefined;

/** Every scenario evaluated once per mocha run (the evaluations are shared by every reality test). */
export function evaluatedScenarios(): Promise<Evaluated[]> {
    cached ??= (async () => {
        const out: Evaluated[] = [];
        for (const s of [...committedScenarios(), ...generatedScenarios()]) {
            out.push({ ...s, evaluation: await evaluate(s.stack, s.config) });
        }
        return out;
    })();
    return cached;
}
