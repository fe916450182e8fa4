/** `switchyard:slots`: what each colour runs (a digest, a build, or nothing). */
import { CONTENT_HASH_PATTERN } from "../images";
import { BuiltFrom, COLORS, Color, DIGEST_PATTERN, Interfaces, Requirements, SchemaSupport, Slot } from "../model";
import { Problems } from "../problems";

/** The highest schema version a slot or `--schema` may name; also the highest interface version (`provides`). */
export const MAX_SCHEMA_VERSION = 1000000;

export function parseSlots(p: Problems, value: unknown): Record<Color, Slot | undefined> {
    const key = "switchyard:slots";
    const slots: Record<Color, Slot | undefined> = { blue: undefined, green: undefined };
    const s = p.object(key, value, COLORS);
    if (value === undefined || value === null) {
        p.add(`${key} is required: give at least the live colour an image, e.g. ${key}.blue.image: <repo>@sha256:<digest>`);
    }
    if (!s) return slots;
    for (const color of COLORS) {
        slots[color] = parseSlot(p, `${key}.${color}`, s[color]);
    }
    const builds = COLORS.filter((c) => slots[c]?.kind === "build");
    if (builds.length > 1) {
        p.add(`${key}: at most one slot may build (blue and green both set build); pin one to its digest with image`);
    }
    return slots;
}

function parseSlot(p: Problems, key: string, value: unknown): Slot | undefined {
    const s = p.object(key, value, ["image", "build", "schema", "idle", "builtFrom", "provides", "requires"]);
    if (!s) return undefined;
    const schema = parseSchemaSupport(p, `${key}.schema`, s.schema, "schema version");
    const interfaces = parseInterfaces(p, key, s);
    const idle = p.boolean(`${key}.idle`, s.idle) ?? false;
    const builtFrom = parseBuiltFrom(p, `${key}.builtFrom`, s.builtFrom);
    if (s.builtFrom !== undefined && s.image === undefined) {
        p.add(
            `${key}.builtFrom belongs to an image pinned from a build (flip and pin record it); a slot without image has nothing ` +
                `pinned: remove builtFrom`,
        );
    }
    if (s.image !== undefined && s.build !== undefined) {
        p.add(`${key}: set either image or build, not both`);
        return undefined;
    }
    if (s.image !== undefined) {
        if (typeof s.image === "string" && !s.image.includes("@sha256:")) {
            p.add(
                `${key}.image must be pinned by digest (<repo>@sha256:<64 hex>), got '${s.image}': tags are mutable; ` +
                    `find the digest with: docker buildx imagetools inspect ${s.image}`,
            );
            return undefined;
        }
        const image = p.string(`${key}.image`, s.image, { pattern: DIGEST_PATTERN, hint: "must be <repo>@sha256:<64 lowercase hex>" });
        if (!image) return undefined;
        return builtFrom
            ? { kind: "image", image, schema, idle, builtFrom, ...interfaces }
            : { kind: "image", image, schema, idle, ...interfaces };
    }
    if (s.build !== undefined) {
        const context = p.string(`${key}.build`, s.build);
        return context ? { kind: "build", context, schema, idle, ...interfaces } : undefined;
    }
    p.add(`${key}: set either image (a digest-pinned reference) or build (a Docker context), or remove the slot`);
    return undefined;
}

/** `builtFrom: { context: ./app, hash: <16 hex> }`: what a pinned image was built from. */
function parseBuiltFrom(p: Problems, key: string, value: unknown): BuiltFrom | undefined {
    const b = p.object(key, value, ["context", "hash"]);
    if (!b) return undefined;
    const context = p.string(`${key}.context`, b.context);
    const hash = p.string(`${key}.hash`, b.hash, {
        pattern: CONTENT_HASH_PATTERN,
        hint: "must be the build's content hash, 16 lowercase hex digits (the image tag's part after build-)",
    });
    if (b.context === undefined || b.hash === undefined) {
        p.add(`${key} needs both context and hash (flip and pin write them; remove builtFrom if unsure: the next build then releases)`);
    }
    return context && hash ? { context, hash } : undefined;
}

/**
 * `provides: 3` and `requires: { api: [2, 3] }` (or `{ api: { min: 2, max: 3 } }`), set only when
 * given, so a slot that declares neither is exactly what it was. Whether the services named exist
 * and the versions agree is judged over the whole stack (lib/coexistence.ts).
 */
function parseInterfaces(p: Problems, key: string, s: Record<string, unknown>): Interfaces {
    const provides = p.int(`${key}.provides`, s.provides, { min: 0, max: MAX_SCHEMA_VERSION });
    const r = p.object(`${key}.requires`, s.requires, Object.keys((s.requires as object) ?? {}));
    let requires: Requirements | undefined;
    if (r) {
        if (Object.keys(r).length === 0) {
            p.add(
                `${key}.requires must name at least one service and the versions of it this build works with, e.g. requires: { api: [2, 3] }, or be removed`,
            );
        }
        const parsed = Object.entries(r).map(
            ([service, v]) => [service, parseSchemaSupport(p, `${key}.requires.${service}`, v, "version of " + service)] as const,
        );
        if (parsed.length > 0 && parsed.every(([, v]) => v !== undefined)) requires = Object.fromEntries(parsed) as Requirements;
    }
    return { ...(provides !== undefined ? { provides } : {}), ...(requires ? { requires } : {}) };
}

/** A list of versions or `{min, max}`: a slot's `schema`, or a version range it `requires` of a service (`what`). */
function parseSchemaSupport(p: Problems, key: string, value: unknown, what: string): SchemaSupport | undefined {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) {
        const versions = value.map((v, i) => p.int(`${key}[${i}]`, v, { min: 0, max: MAX_SCHEMA_VERSION }));
        if (value.length === 0) p.add(`${key} must list at least one ${what} (e.g. [3, 4]) or be {min, max}`);
        return versions.every((v): v is number => v !== undefined) && versions.length > 0 ? { versions } : undefined;
    }
    const r = p.object(key, value, ["min", "max"]);
    if (!r) return undefined;
    const min = p.int(`${key}.min`, r.min, { min: 0, max: MAX_SCHEMA_VERSION });
    const max = p.int(`${key}.max`, r.max, { min: 0, max: MAX_SCHEMA_VERSION });
    if (r.min === undefined || r.max === undefined) p.add(`${key} as a range needs both min and max (e.g. {min: 3, max: 4})`);
    if (min !== undefined && max !== undefined && min > max) p.add(`${key}.min (${min}) must not exceed ${key}.max (${max})`);
    return min !== undefined && max !== undefined && min <= max ? { min, max } : undefined;
}
