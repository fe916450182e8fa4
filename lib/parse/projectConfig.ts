/**
 * The Pulumi engine's project-configuration rule, which runs before any program does: every key
 * declared under `config:` in Pulumi.yaml without a `default` (or `value`) must be set in each
 * stack, a declared `type` must match the stack's value, and a declared default fills in a key
 * the stack leaves out. A stack that breaks it fails `pulumi preview` with the engine's message
 * before switchyard's own validation can run, so the tests apply it to every committed stack.
 *
 * Source: pulumi/pulumi sdk/go/common/workspace/config.go (`mergeConfig`,
 * `validateStackConfigValue`, used by `ValidateStackConfigAndApplyProjectConfig`) and
 * sdk/go/common/workspace/project.go (`ValidateConfigValue`); the engine's own test is
 * `TestStackConfigErrorsWhenMissingStackValueForConfigTypeWithNoDefault` in project_test.go.
 */

/** One entry of Pulumi.yaml's `config:` map, in its long form. */
interface ProjectConfigType {
    readonly type?: string;
    readonly items?: ItemsType;
    readonly default?: unknown;
    readonly value?: unknown;
    readonly secret?: boolean;
}

interface ItemsType {
    readonly type: string;
    readonly items?: ItemsType;
}

export interface AppliedProjectConfig {
    /** The stack's config as the engine hands it to the program: declared defaults filled in. */
    readonly config: Record<string, unknown>;
    /** The engine's errors, in its words; empty when `pulumi preview` gets past config loading. */
    readonly problems: readonly string[];
}

/**
 * Applies Pulumi.yaml's `config:` declarations to one stack's `config:` map (keys as written in
 * `Pulumi.<stack>.yaml`, e.g. `switchyard:service`, `aws:region`).
 */
export function applyProjectConfig(
    projectName: string,
    declared: Readonly<Record<string, unknown>>,
    stackName: string,
    stackConfig: Readonly<Record<string, unknown>>,
): AppliedProjectConfig {
    const config: Record<string, unknown> = { ...stackConfig };
    const problems: string[] = [];
    const missing: string[] = [];
    for (const projectKey of Object.keys(declared).sort()) {
        const decl = longForm(declared[projectKey]);
        const fullKey = projectKey.includes(":") ? projectKey : `${projectName}:${projectKey}`;
        const inProject = fullKey.startsWith(`${projectName}:`);
        if (!inProject && (decl.default !== undefined || decl.type !== undefined)) {
            // project.go: a key of another namespace may only carry `value`.
            problems.push(
                `Configuration key '${projectKey}' is not namespaced by the project and should not define a default value or type`,
            );
            continue;
        }
        if (decl.type !== undefined && decl.default !== undefined && !matchesType(decl.type, decl.items, decl.default, false)) {
            problems.push(
                `The default value specified for configuration key '${projectKey}' is not of the expected type '${typeName(decl)}'`,
            );
        }
        if (!(fullKey in stackConfig)) {
            const fallback = decl.default ?? decl.value;
            if (fallback === undefined) {
                if (inProject) missing.push(projectKey);
            } else {
                config[fullKey] = fallback;
            }
            continue;
        }
        const stackValue = stackConfig[fullKey];
        if (decl.secret && !isSecure(stackValue)) {
            problems.push(`Stack '${stackName}' with configuration key '${projectKey}' must be encrypted as it's secret`);
        }
        if (decl.type !== undefined && !isSecure(stackValue) && !matchesType(decl.type, decl.items, stackValue, true)) {
            problems.push(`Stack '${stackName}' with configuration key '${projectKey}' must be of type '${typeName(decl)}'`);
        }
    }
    if (missing.length > 0) problems.unshift(missingKeysMessage(stackName, missing));
    return { config, problems };
}

/** A bare value under a key is the short form of `{ value: ... }`. */
function longForm(entry: unknown): ProjectConfigType {
    const isLong =
        typeof entry === "object" &&
        entry !== null &&
        !Array.isArray(entry) &&
        ["type", "default", "value", "description", "secret", "items"].some((k) => k in entry);
    return isLong ? (entry as ProjectConfigType) : { value: entry };
}

/** config.go `missingStackConfigurationKeysError` and `formatMissingKeys`. */
function missingKeysMessage(stackName: string, keys: string[]): string {
    const quoted = keys.map((k) => `'${k}'`);
    const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} and ${quoted[quoted.length - 1]}`;
    return `Stack '${stackName}' is missing configuration value${keys.length > 1 ? "s" : ""} ${list}`;
}

function typeName(t: { type: string; items?: ItemsType } | ProjectConfigType): string {
    return t.items ? `array<${typeName(t.items)}>` : String(t.type);
}

/**
 * project.go `ValidateConfigValue`. A stack's scalar value reaches the engine as a string (YAML
 * `8080` and `true` included); objects and lists arrive as JSON.
 */
function matchesType(type: string, items: ItemsType | undefined, value: unknown, fromStack: boolean): boolean {
    const scalar = fromStack && (typeof value === "number" || typeof value === "boolean") ? String(value) : value;
    switch (type) {
        case "string":
            return typeof scalar === "string";
        case "integer":
            return (typeof scalar === "number" && Number.isInteger(scalar)) || (typeof scalar === "string" && /^[+-]?\d+$/.test(scalar));
        case "boolean":
            return scalar === true || scalar === false || scalar === "true" || scalar === "false";
        case "array":
            return Array.isArray(value) && items !== undefined && value.every((v) => matchesType(items.type, items.items, v, false));
        default:
            return false;
    }
}

function isSecure(value: unknown): boolean {
    return typeof value === "object" && value !== null && "secure" in value;
}
