/**
 * The health gate's dynamic provider. Pulumi serialises this object with everything its methods
 * capture and runs the text in its dynamic-provider host: a separate, plain Node process (no
 * ts-node), so a relative `require` or a captured module would not resolve there. The methods
 * therefore capture only plain strings (absolute module paths, resolved here at deployment time)
 * and load lib/aws/healthGate when they run; the AWS clients are built inside that call, from the
 * `region` input and the environment (`AWS_PROFILE`, `AWS_ENDPOINT_URL`, ...).
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as gate from "../lib/aws/healthGate";

/** One colour about to receive production traffic, as the gate resource stores it. */
export interface GateColorInputs {
    readonly color: string;
    readonly targetGroupArn: string;
    readonly minHealthy: number;
    readonly alarmNames: readonly string[];
    /** The image the colour runs: only here so that a new image re-runs the gate. */
    readonly image: string;
}

/** The gate resource's inputs (and outputs: the provider stores them back as its state). */
export interface HealthGateInputs {
    readonly region: string;
    readonly colors: readonly GateColorInputs[];
    /** Production weights per colour: only here so that a traffic change re-runs the gate. */
    readonly weights: Readonly<Record<string, number>>;
    readonly timeoutSeconds: number;
    /** A URL through the test listener, requested once the targets are healthy. */
    readonly probeUrl?: string;
    /** The live colour after this update. Absent in gates stored before it was recorded. */
    readonly live?: string;
    /** The colour a flip left, kept warm as the rollback target (`traffic.previous`). */
    readonly previous?: string;
}

/**
 * Resolved where the program runs; plain strings, so they serialise as values. Run from the
 * TypeScript sources (as `pulumi up` does), the provider host needs ts-node to load the gate.
 */
const gateModule = require.resolve("../lib/aws/healthGate");
const RUNTIME = {
    gateModule,
    tsNode: gateModule.endsWith(".ts") ? require.resolve("ts-node") : "",
    tsconfig: gateModule.endsWith(".ts") ? require.resolve("../tsconfig.json") : "",
};

/**
 * What re-runs the gate: the production weights, the colours with traffic and their images, and
 * the colour a flip left (`previous`), so that the stored state always says which colour a
 * rollback may return to (`finish` clears it; a stale one would exempt a new release in that
 * colour from its alarms). Everything else (alarm names, target groups, thresholds, timeout,
 * probe) is checked by the next run but does not trigger one.
 */
export function gateTrigger(inputs: Partial<HealthGateInputs>): string {
    const weights = Object.entries(inputs.weights ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const images = (inputs.colors ?? []).map((c) => [c.color, c.image]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return JSON.stringify({ weights, images, previous: inputs.previous });
}

/**
 * The colours whose alarms block this update: those that gain traffic (a higher weight, or newly
 * among the gated colours: a route), except the live colour when traffic goes back to it as the
 * last safe routing: it was live before the update too (a canary or route taken away from the
 * candidate comes back to it), or it is the colour the last flip left (`previous`: a rollback
 * makes it live again). Invariant 14: nothing that moves traffic back may be blocked, and a
 * failing candidate can fire the alarms of the colour it relieves (a shared database under its
 * load), which would keep users on the bad build. Healthy targets still count for every colour.
 * Without old inputs (create) every colour's alarms block.
 */
export function alarmGatedColors(olds: HealthGateInputs | undefined, news: HealthGateInputs): string[] {
    if (!olds) return news.colors.map((c) => c.color);
    const before = new Set(olds.colors.map((c) => c.color));
    const gaining = news.colors
        .map((c) => c.color)
        .filter((color) => !before.has(color) || (news.weights[color] ?? 0) > (olds.weights[color] ?? 0));
    // A gate stored before `live` was recorded: the live colour is the one with the most traffic.
    const liveBefore = olds.live ?? Object.entries(olds.weights).sort(([, a], [, b]) => b - a)[0]?.[0];
    const backToSafe = news.live !== undefined && (news.live === liveBefore || news.live === olds.previous);
    return gaining.filter((color) => !(backToSafe && color === news.live));
}

async function runGate(
    inputs: HealthGateInputs,
    olds?: HealthGateInputs,
): Promise<HealthGateInputs & { readonly passed: gate.GateResult }> {
    // The provider host is plain Node: these modules load at run time, from absolute paths.
    /* eslint-disable @typescript-eslint/no-require-imports */
    if (RUNTIME.tsNode && !require.extensions[".ts"]) {
        require(RUNTIME.tsNode).register({ transpileOnly: true, project: RUNTIME.tsconfig });
    }
    const { waitForHealthyTargets }: typeof gate = require(RUNTIME.gateModule);
    /* eslint-enable @typescript-eslint/no-require-imports */
    const gated = alarmGatedColors(olds, inputs);
    const passed = await waitForHealthyTargets({
        colors: inputs.colors.map((c) => ({
            color: c.color as gate.GateColor["color"],
            targetGroupArn: c.targetGroupArn,
            minHealthy: Math.max(1, c.minHealthy),
            alarmNames: gated.includes(c.color) ? c.alarmNames : [],
        })),
        timeoutSeconds: inputs.timeoutSeconds,
        region: inputs.region,
        probe: inputs.probeUrl ? { url: inputs.probeUrl } : undefined,
    });
    const { region, colors, weights, timeoutSeconds, probeUrl, live, previous } = inputs;
    return {
        region,
        colors,
        weights,
        timeoutSeconds,
        ...(probeUrl ? { probeUrl } : {}),
        ...(live ? { live } : {}),
        ...(previous ? { previous } : {}),
        passed,
    };
}

/** Waits for the gate on create and on every update `diff` asks for; deleting it does nothing. */
export const healthGateProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: HealthGateInputs, news: HealthGateInputs): Promise<pulumi.dynamic.DiffResult> {
        return { changes: gateTrigger(olds) !== gateTrigger(news) };
    },
    async create(inputs: HealthGateInputs): Promise<pulumi.dynamic.CreateResult> {
        const outs = await runGate(inputs);
        return { id: `health-gate-${outs.colors.map((c) => c.color).join("-")}`, outs };
    },
    async update(_id: string, olds: HealthGateInputs, news: HealthGateInputs): Promise<pulumi.dynamic.UpdateResult> {
        return { outs: await runGate(news, olds) };
    },
};
