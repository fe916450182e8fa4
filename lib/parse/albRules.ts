/**
 * The listener rule a route becomes, and the limits the ALB enforces on it. One function builds
 * the conditions (components/trafficSwitch.ts registers exactly these), another checks them, so
 * the config model refuses what `CreateRule` would refuse, before any weight has moved.
 *
 * Sources (each rule below repeats its own):
 * - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
 *   ("Condition basics": at most one host-header and one source-ip condition per rule, any number
 *   of http-header and query-string conditions; up to three match evaluations per condition, up to
 *   five per rule; values inside one condition are ORed, "to require that all of the strings are a
 *   match, create one condition per match evaluation"; at most five wildcards per rule; visible
 *   ASCII only)
 * - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html
 *   (header name at most 40 characters, not `Host`; each value or regex at most 128 characters)
 * - https://docs.aws.amazon.com/elasticloadbalancing/latest/application/add-rule.html (host and
 *   query-string value characters; a host needs a "." followed by letters only)
 * - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
 *   and API_HostHeaderConditionConfig.html (a host name "can contain any of the following
 *   characters": A-Z, a-z, 0-9, - . and the wildcards * ?; at most 128 characters; at least one
 *   "."; "only alphabetical characters after the final "." character")
 * - node_modules/@pulumi/aws/types/input.d.ts `ListenerRuleConditionHttpHeader.regexValues`
 *   (provider 7.48.0: http-header conditions take regular expressions)
 * - https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
 *   ("Each rule can optionally include up to one of each of the following conditions:
 *   http-request-method, host-header, path-pattern, and source-ip"; a path pattern "is
 *   case-sensitive, can be up to 128 characters in length", characters A-Z a-z 0-9 _ - . $ / ~ " ' @ : + &
 *   and the wildcards * ?) and API_PathPatternConditionConfig.html ("compared only to the path of
 *   the URL, not to its query string"); the same text is in botocore's elbv2 service-2.json
 *   (RuleCondition.Values, PathPatternConditionConfig.Values)
 */
import { Route } from "../model";

export const ALB_RULE_LIMITS = {
    /** "You can specify up to three match evaluations per condition." */
    valuesPerCondition: 3,
    /** "You can specify up to five match evaluations per rule." */
    valuesPerRule: 5,
    /** "There is a limit of five wildcard characters per rule." */
    wildcardsPerRule: 5,
    /** Each header/host/query value or regex: "maximum length of each string is 128 characters". */
    patternLength: 128,
} as const;

/**
 * A route host as a host-header condition takes it: only `A-Z a-z 0-9 - . * ?` (no `_`), at most
 * 128 characters, a "." and then letters only (elbv2 service-2.json, RuleCondition.Values and
 * HostHeaderConditionConfig.Values; test/reality/apiModels.test.ts reads that text).
 */
export const HOST_VALUE = {
    pattern: /^(?=.{1,128}$)[A-Za-z0-9*?.-]*\.[A-Za-z]+$/,
    hint: "must be a host name of at most 128 characters, using only letters, digits, - . and the wildcards * ? (no _), ending in .<letters>",
};

/**
 * A path-pattern value as the ALB takes it: at most 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + &
 * and the wildcards * ? (RuleCondition.Values, elbv2 service-2.json). A leading / because the
 * pattern is compared with the request's path, which always starts with one.
 */
export const PATH_VALUE = {
    pattern: /^\/[A-Za-z0-9_\-.$/~"'@:+&*?]{0,127}$/,
    hint: "must be a path pattern of at most 128 characters starting with /, using only letters, digits, _ - . $ / ~ \" ' @ : + & and the wildcards * ?",
};

/** A listener-rule condition in the provider's input shape (aws.types.input.lb.ListenerRuleCondition). */
export interface RuleCondition {
    readonly pathPattern?: { readonly values: string[] };
    readonly httpHeader?: { readonly httpHeaderName: string; readonly values?: string[]; readonly regexValues?: string[] };
    readonly hostHeader?: { readonly values: string[] };
    readonly sourceIp?: { readonly values: string[] };
    readonly queryStrings?: { readonly key: string; readonly value: string }[];
}

/** A condition and the route key it comes from, so a refusal can name the key. */
export interface SourcedCondition {
    /** Relative to the route, e.g. `header.values`, `query.version`. */
    readonly key: string;
    readonly condition: RuleCondition;
}

/**
 * One ALB condition per route condition, so a request must match all of them. A query map gets
 * one condition per key: values in one query-string condition are ORed, so a single condition
 * would send `?a=1` to a route that asks for `a=1` and `b=2`.
 */
export function routeConditions(route: Route): SourcedCondition[] {
    const out: SourcedCondition[] = [];
    if (route.header) {
        out.push({
            key: "header.values",
            condition: { httpHeader: { httpHeaderName: route.header.name, values: [...route.header.values] } },
        });
    }
    if (route.cookie) {
        out.push({
            key: "cookie",
            condition: { httpHeader: { httpHeaderName: "Cookie", regexValues: [cookieRegex(route.cookie.name, route.cookie.value)] } },
        });
    }
    if (route.sourceIps) out.push({ key: "sourceIps", condition: { sourceIp: { values: [...route.sourceIps] } } });
    if (route.hosts) out.push({ key: "hosts", condition: { hostHeader: { values: [...route.hosts] } } });
    for (const [key, value] of Object.entries(route.query ?? {})) {
        out.push({ key: `query.${key}`, condition: { queryStrings: [{ key, value }] } });
    }
    return out;
}

/**
 * A regular expression matching a Cookie header that holds exactly this cookie: the pair is at
 * the start or after `;` (and optional whitespace), and ends at `;` or the end. A wildcard value
 * `*name=value*` would also match `xname=value` and `name=value2`. Written with `{0,1}` and
 * `{0,}` rather than `?` and `*`, so it uses none of the rule's five wildcards whichever way the
 * ALB counts them, and anchored at both ends, so it means the same under full or partial matching.
 */
export function cookieRegex(name: string, value: string): string {
    return `^(.{0,};\\s{0,1}){0,1}${escapeRegex(name)}=${escapeRegex(value)}(;.{0,}){0,1}$`;
}

function escapeRegex(s: string): string {
    return s.replace(/[\\^$.|?*+()[\]{}]/g, "\\$&");
}

/** Match evaluations of one condition. */
function values(c: RuleCondition): string[] {
    if (c.httpHeader) return [...(c.httpHeader.values ?? []), ...(c.httpHeader.regexValues ?? [])];
    if (c.hostHeader) return c.hostHeader.values;
    if (c.pathPattern) return c.pathPattern.values;
    if (c.sourceIp) return c.sourceIp.values;
    return (c.queryStrings ?? []).map((q) => `${q.key}=${q.value}`);
}

/** `*` and `?` in value-matching strings (regex values are a different matching method). */
function wildcards(c: RuleCondition): number {
    const strings = c.httpHeader
        ? (c.httpHeader.values ?? [])
        : c.hostHeader
          ? c.hostHeader.values
          : c.pathPattern
            ? c.pathPattern.values
            : (c.queryStrings ?? []).flatMap((q) => [q.key, q.value]);
    return strings.join("").replace(/[^*?]/g, "").length;
}

/** "Up to one of each" per rule (API_RuleCondition.html). */
const SINGLE_CONDITION_FIELDS: readonly { field: keyof RuleCondition; name: string; fix: string }[] = [
    { field: "hostHeader", name: "host-header", fix: "give the hosts in one place, the service's match or the route" },
    { field: "pathPattern", name: "path-pattern", fix: "give the paths in one place" },
    { field: "sourceIp", name: "source-ip", fix: "give the source ranges in one place" },
];

/** A refusal: the route key it concerns (none: the whole rule) and what to do. */
export interface RuleProblem {
    readonly key?: string;
    readonly problem: string;
}

/** What `CreateRule` would refuse in these conditions; empty when the ALB accepts the rule. */
export function ruleLimitProblems(conditions: readonly SourcedCondition[]): RuleProblem[] {
    const problems: RuleProblem[] = [];
    const { valuesPerCondition, valuesPerRule, wildcardsPerRule, patternLength } = ALB_RULE_LIMITS;
    for (const { key, condition } of conditions) {
        const vs = values(condition);
        if (vs.length > valuesPerCondition) {
            problems.push({
                key,
                problem: `has ${vs.length} values; an ALB condition matches at most ${valuesPerCondition} (any one of them) and a rule allows one such condition: split them over several routes`,
            });
        }
        for (const v of condition.httpHeader?.regexValues ?? []) {
            if (v.length > patternLength) {
                problems.push({
                    key,
                    problem: `is too long: its ALB pattern has ${v.length} characters, at most ${patternLength}; shorten the name or value`,
                });
            }
        }
    }
    for (const field of SINGLE_CONDITION_FIELDS) {
        const given = conditions.filter((c) => c.condition[field.field] !== undefined);
        if (given.length > 1) {
            problems.push({
                problem: `has ${given.length} ${field.name} conditions (${given.map((c) => c.key).join(", ")}); an ALB rule takes at most one: ${field.fix}`,
            });
        }
    }
    const total = conditions.reduce((n, c) => n + values(c.condition).length, 0);
    if (total > valuesPerRule) {
        problems.push({
            problem: `has ${total} condition values; an ALB rule allows at most ${valuesPerRule}: split it into several routes`,
        });
    }
    const stars = conditions.reduce((n, c) => n + wildcards(c.condition), 0);
    if (stars > wildcardsPerRule) {
        problems.push({
            problem: `has ${stars} wildcards (* and ?); an ALB rule allows at most ${wildcardsPerRule}: use fewer, or split the route`,
        });
    }
    return problems;
}

/**
 * Whether every string `narrow` matches is also matched by `broad`, in the ALB's wildcard
 * language: `*` any run of characters (none too), `?` exactly one ("The following wildcard
 * characters are supported: * (matches 0 or more characters) and ? (matches exactly 1
 * character)": API_PathPatternConditionConfig.html, API_HostHeaderConditionConfig.html). Host
 * names compare case-insensitively, paths case-sensitively (same pages).
 *
 * Sound, not complete: it answers true only when `broad` can consume `narrow` token by token
 * (a `*` of `narrow` only by a `*` of `broad`), so it never calls a pattern covered that is not;
 * a few exotic pairs (`*?` covering `?*`) are answered false, and then nothing is refused.
 */
export function patternCovers(broad: string, narrow: string, ignoreCase: boolean): boolean {
    const b = ignoreCase ? broad.toLowerCase() : broad;
    const n = ignoreCase ? narrow.toLowerCase() : narrow;
    const memo = new Map<number, boolean>();
    const covers = (i: number, j: number): boolean => {
        if (i === b.length) return j === n.length;
        const at = i * (n.length + 1) + j;
        const known = memo.get(at);
        if (known !== undefined) return known;
        let result: boolean;
        if (b[i] === "*") result = covers(i + 1, j) || (j < n.length && covers(i, j + 1));
        else if (b[i] === "?") result = j < n.length && n[j] !== "*" && covers(i + 1, j + 1);
        else result = j < n.length && n[j] === b[i] && covers(i + 1, j + 1);
        memo.set(at, result);
        return result;
    };
    return covers(0, 0);
}

/**
 * Whether a rule on `broad` values takes every request a rule on `narrow` values would: each
 * narrow value covered by one broad value. No values (no condition) matches every request.
 */
export function valuesCover(broad: readonly string[], narrow: readonly string[], ignoreCase: boolean): boolean {
    if (broad.length === 0) return true;
    if (narrow.length === 0) return false;
    return narrow.every((n) => broad.some((b) => patternCovers(b, n, ignoreCase)));
}
