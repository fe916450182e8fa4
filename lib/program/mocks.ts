/**
 * Pulumi runtime mocks: the program runs as under `pulumi up`, but every resource is recorded
 * (type, name, inputs, dependencies) instead of created, and data-source calls are answered here
 * with fixed values. No credentials, CLI or network. An unknown call throws, so a new one is
 * noticed. Used by `plan` and by the tests (test/helpers/mocks.ts re-exports this module).
 */
import * as pulumi from "@pulumi/pulumi";

export interface Recorded {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly inputs: Record<string, any>;
    /** URNs this resource depends on (dependsOn plus the resources its inputs came from). */
    readonly dependencies: readonly string[];
    readonly custom: boolean;
    /** Earlier names this resource answers to (`aliases: [{ name }]`): the engine keeps its URN. */
    readonly aliasNames: readonly string[];
    /** Earlier URNs this resource answers to (`aliases: ["urn:pulumi:…"]`), in the engine's format. */
    readonly aliasUrns: readonly string[];
    /** The parent's (mock) URN; "" for a top-level resource. */
    readonly parent: string;
}

/**
 * The URN the Pulumi engine gives a resource: its parents' full type chain
 * (`switchyard:service:BlueGreenService$switchyard:traffic:TrafficSwitch$aws:lb/loadBalancer:LoadBalancer`),
 * where the mocks keep only the parent's own type. Aliases given as URNs are in this format.
 */
export function engineUrn(r: Pick<Recorded, "urn" | "type" | "name" | "parent">, all: readonly Recorded[]): string {
    const chain = [r.type];
    for (let p = all.find((x) => x.urn === r.parent); p; p = all.find((x) => x.urn === p!.parent)) chain.unshift(p.type);
    const [, stackAndProject] = /^urn:pulumi:([^:]+::[^:]+)::/.exec(r.urn) ?? [];
    return `urn:pulumi:${stackAndProject}::${chain.join("$")}::${r.name}`;
}

const recorded = new Map<string, Recorded>();
interface Pending {
    deps: string[];
    custom: boolean;
    aliasNames: string[];
    aliasUrns: string[];
    parent: string;
}
const pendingDeps = new Map<string, Pending>();

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";
const FAKE_DIGEST = "sha256:" + "d".repeat(64);

/**
 * What a build pushed, which nothing offline can know. `plan` states an assumption here when a
 * change pins a build slot: that the build produced exactly the digest it is pinned to (which is
 * what pin, start and flip read from the stack's `images` output).
 */
export interface BuildAssumption {
    /** The stack's ECR repository URL, `<registry>/<name>`; default `<account>.dkr.ecr.<region>.amazonaws.com/<logical name>`. */
    readonly repositoryUrl?: string;
    /** The digest a build pushes, `sha256:<64 hex>`; default a fixed fake one. */
    readonly digest?: string;
}

let assumption: BuildAssumption = {};

/** Sets the build assumption for the next evaluations (lib/program/evaluate.ts sets it for each one). */
export function assumeBuild(next: BuildAssumption): void {
    assumption = next;
}

/** Computed outputs per resource type, the way AWS would fill them in. */
function computed(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    const arn = `arn:aws:${type.split(":")[1]?.split("/")[0] ?? "x"}:${REGION}:${ACCOUNT}:${name}`;
    switch (type) {
        case "aws:lb/loadBalancer:LoadBalancer":
            return { arn, dnsName: `${name}-123.${REGION}.elb.amazonaws.com`, arnSuffix: `app/${name}/abc`, zoneId: "Z32O12XQLNTSW2" };
        case "aws:lb/targetGroup:TargetGroup":
            return { arn, arnSuffix: `targetgroup/${name}/def`, name: `${name}-tg` };
        case "aws:ecr/repository:Repository": {
            // The ARN as ECR forms it (lib/images.ts derives the same one from an image reference).
            const repositoryUrl = assumption.repositoryUrl ?? `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${name}`;
            const repoName = repositoryUrl.slice(repositoryUrl.indexOf("/") + 1);
            return { arn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${repoName}`, repositoryUrl, registryId: ACCOUNT, name: repoName };
        }
        case "docker:index/image:Image":
            return { repoDigest: `${String(inputs.imageName).split(":")[0]}@${assumption.digest ?? FAKE_DIGEST}` };
        case "aws:ecs/service:Service":
            return { arn, name: `${name}-svc` };
        case "aws:ecs/cluster:Cluster":
            return { arn, name: `${name}-cluster` };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${inputs.name ?? name}`, name: inputs.name ?? name };
        case "random:index/randomId:RandomId":
            return { hex: "0123abcd".padEnd(2 * (inputs.byteLength ?? 4), "0") };
        default:
            return { arn };
    }
}

/** Answers to the data-source calls the program makes (one case per call token). */
function call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
    switch (args.token) {
        case "aws:ec2/getVpc:getVpc":
            return { id: "vpc-default0", cidrBlock: "172.31.0.0/16", default: true };
        case "aws:ec2/getSubnets:getSubnets":
            return { id: "subnets", ids: ["subnet-0a", "subnet-0b", "subnet-0c"] };
        case "aws:index/getRegion:getRegion":
            return { id: REGION, name: REGION, region: REGION };
        case "aws:index/getCallerIdentity:getCallerIdentity":
            return { id: ACCOUNT, accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: "AIDTEST" };
        case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return { id: ACCOUNT, userName: "AWS", password: "token", authorizationToken: "dG9rZW4=", proxyEndpoint: "https://ecr" };
        case "aws:lb/getLoadBalancer:getLoadBalancer": {
            // An adopted load balancer (switchyard:loadBalancer.adopt): its name and id from the ARN.
            const [, name, id] = /loadbalancer\/app\/([^/]+)\/([^/]+)$/.exec(String(args.inputs.arn)) ?? ["", "adopted", "0"];
            return {
                id: args.inputs.arn,
                arn: args.inputs.arn,
                arnSuffix: `app/${name}/${id}`,
                dnsName: `${name}-${id}.${REGION}.elb.amazonaws.com`,
                internal: false,
                loadBalancerType: "application",
            };
        }
        default:
            throw new Error(`unmocked call ${args.token}: add it to lib/program/mocks.ts`);
    }
}

const idOf = (name: string) => `${name}-id`;

const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
        const state = { ...args.inputs, ...computed(args.type, args.name, args.inputs) };
        return { id: idOf(args.name), state };
    },
    call,
};

/**
 * (Re)installs the mocks for a stack and hooks the mock monitor so dependencies are recorded
 * (the public Mocks API does not pass them to newResource).
 */
export async function useStack(stack: string, preview = false): Promise<void> {
    await pulumi.runtime.setMocks(mocks, "switchyard", stack, preview);
    const monitor = (pulumi.runtime as any).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, res: any) => void) => {
        const key = `${req.getType()}::${req.getName()}`;
        const aliases: any[] = req.getAliasesList();
        const aliasNames: string[] = aliases
            .map((a) => a.getSpec()?.getName())
            .filter((n: unknown): n is string => typeof n === "string" && n !== "");
        const aliasUrns: string[] = aliases.map((a) => a.getUrn()).filter((u: unknown): u is string => typeof u === "string" && u !== "");
        pendingDeps.set(key, { deps: req.getDependenciesList(), custom: req.getCustom(), aliasNames, aliasUrns, parent: req.getParent() });
        return register(req, (err: any, res: any) => {
            if (!err) {
                const urn: string = res.getUrn();
                const pending = pendingDeps.get(key) ?? { deps: [], custom: true, aliasNames: [], aliasUrns: [], parent: "" };
                const { deps, custom, aliasNames, aliasUrns, parent } = pending;
                const inputs = pulumi.runtime.deserializeProperties(req.getObject());
                recorded.set(urn, {
                    type: req.getType(),
                    name: req.getName(),
                    urn,
                    inputs,
                    dependencies: deps,
                    custom,
                    aliasNames,
                    aliasUrns,
                    parent,
                });
            }
            callback(err, res);
        });
    };
}

/**
 * The id and ARN the mocks gave a resource: a resource whose inputs hold one of them follows it,
 * so when it is replaced (a new id and ARN in AWS) that resource changes too.
 */
export function identifiersOf(r: Pick<Recorded, "type" | "name" | "inputs">): string[] {
    return [idOf(r.name), computed(r.type, r.name, r.inputs).arn];
}

/**
 * Every identifier the mocks gave a resource (its id and each string output: ARN, ARN suffix, DNS
 * name, name). A resource the engine finds by an alias keeps these in AWS; under the mocks they
 * follow its name, so lib/plan/diff.ts reads the old ones as the new ones.
 */
export function outputIdentifiersOf(r: Pick<Recorded, "type" | "name" | "inputs">): string[] {
    const outputs = Object.values(computed(r.type, r.name, r.inputs)).filter((v): v is string => typeof v === "string");
    return [idOf(r.name), ...outputs];
}

/** Every resource registered since the last reset. */
export function registered(): Recorded[] {
    return [...recorded.values()];
}

export function resetRecorded(): void {
    recorded.clear();
    pendingDeps.clear();
}

/** Resolves an Output (Outputs resolve even when unknown under mocks). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Waits until no new resource registered for several turns of the event loop. */
export async function settle(): Promise<void> {
    let last = -1;
    let stableTurns = 0;
    while (stableTurns < 5) {
        await new Promise((r) => setTimeout(r, 5));
        stableTurns = recorded.size === last ? stableTurns + 1 : 0;
        last = recorded.size;
    }
}
