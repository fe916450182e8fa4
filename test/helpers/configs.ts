/** Config builders for tests: a valid base stack and digests. */
export const digest = (c: string): string => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${c.repeat(64).slice(0, 64)}`;

/** A valid blue-green stack: blue live on image A, green empty. Raw `switchyard:*` values. */
export function baseRaw(): Record<string, any> {
    return {
        service: { name: "web", port: 8080, healthCheckPath: "/healthz", desiredCount: 2 },
        slots: { blue: { image: digest("a") } },
        traffic: { live: "blue" },
        testAccess: { cidrs: ["203.0.113.0/24"] },
    };
}

/** The same, as a stack file's `config:` map (prefixed keys, plus a region). */
export function stackConfig(raw: Record<string, any>): Record<string, unknown> {
    return {
        "aws:region": "eu-west-1",
        ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [`switchyard:${k}`, v])),
    };
}
