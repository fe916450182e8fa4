/** `switchyard:loadBalancer`: the shared edge of `switchyard:services` (DESIGN.md "Many services on one load balancer"). */
import { Problems } from "../problems";
import { ALB_QUOTAS } from "../ruleLayout";
import { AdoptedEdge, EdgeSettings } from "../stackSpec";
import { MAX_ROUTE_PRIORITY } from "./traffic";

const KEY = "switchyard:loadBalancer";

// ARN shapes: arn:<partition>:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>
// and …:listener/app/<name>/<load balancer id>/<listener id>
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html#awselasticloadbalancingv2-resources-for-iam-policies).
const ALB_ARN = {
    pattern: /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/,
    hint: "must be an Application Load Balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>)",
};
const LISTENER_ARN = {
    pattern: /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+\/[0-9a-f]+$/,
    hint: "must be a listener ARN of an Application Load Balancer (arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<id>/<id>)",
};
// "sg-" and 8 or 17 hexadecimal characters (EC2 resource IDs).
const SECURITY_GROUP_ID = { pattern: /^sg-[0-9a-f]{8}([0-9a-f]{9})?$/, hint: "must be a security group ID (sg-0123456789abcdef0)" };

/**
 * The edge settings; `serviceNames` are the keys of `switchyard:services`, `blueGreen` whether
 * any service serves a candidate on the test listener. Undefined when a problem was recorded.
 */
export function parseLoadBalancer(
    p: Problems,
    value: unknown,
    serviceNames: readonly string[],
    blueGreen: boolean,
): EdgeSettings | undefined {
    const before = p.count;
    const lb = p.object(KEY, value, ["default", "maxRules", "adopt"]);
    const fallback = p.string(`${KEY}.default`, lb?.default);
    if (fallback !== undefined && !serviceNames.includes(fallback)) {
        p.add(
            `${KEY}.default names '${fallback}', which is not a key of switchyard:services; use one of: ${serviceNames.join(", ")}, ` +
                `or remove it (requests no rule matches then get a fixed 404)`,
        );
    }
    // Two listeners of priorities 1..50000 each.
    const maxRules = p.int(`${KEY}.maxRules`, lb?.maxRules, {
        min: 1,
        max: 2 * MAX_ROUTE_PRIORITY,
        default: ALB_QUOTAS.rulesPerLoadBalancer,
    });
    const adopt = parseAdopt(p, lb?.adopt, blueGreen);
    if (lb?.adopt !== undefined && lb.default !== undefined) {
        p.add(
            `${KEY}.default cannot be used with ${KEY}.adopt: the adopted listeners' default actions are not switchyard's to change; ` +
                `remove default and give every service a match with paths or hosts`,
        );
    }
    if (p.count > before) return undefined;
    return { default: fallback, maxRules, adopt };
}

function parseAdopt(p: Problems, value: unknown, blueGreen: boolean): AdoptedEdge | undefined {
    const key = `${KEY}.adopt`;
    const a = p.object(key, value, ["arn", "securityGroupId", "productionListenerArn", "testListenerArn"]);
    if (!a) return undefined;
    const arn = p.string(`${key}.arn`, a.arn, ALB_ARN);
    const securityGroupId = p.string(`${key}.securityGroupId`, a.securityGroupId, SECURITY_GROUP_ID);
    const productionListenerArn = p.string(`${key}.productionListenerArn`, a.productionListenerArn, LISTENER_ARN);
    const testListenerArn = p.string(`${key}.testListenerArn`, a.testListenerArn, LISTENER_ARN);
    for (const [k, what] of [
        ["arn", "the load balancer's ARN"],
        ["securityGroupId", "the load balancer's security group, which the tasks admit"],
        ["productionListenerArn", "the listener users reach"],
    ] as const) {
        if (a[k] === undefined) p.add(`${key}.${k} is required: ${what}`);
    }
    if (a.testListenerArn === undefined && blueGreen) {
        p.add(
            `${key}.testListenerArn is required: blue-green services serve their candidate on the test listener; ` +
                `give the adopted load balancer's test listener ARN`,
        );
    }
    for (const [k, listener] of [
        ["productionListenerArn", productionListenerArn],
        ["testListenerArn", testListenerArn],
    ] as const) {
        if (arn !== undefined && listener !== undefined && !listener.includes(`:listener/${arn.split(":loadbalancer/")[1]}/`)) {
            p.add(`${key}.${k} is a listener of another load balancer than ${key}.arn; give a listener of ${arn}`);
        }
    }
    if (!arn || !securityGroupId || !productionListenerArn) return undefined;
    return { arn, securityGroupId, productionListenerArn, testListenerArn };
}
