import * as pulumi from "@pulumi/pulumi";
import { Color } from "../lib/config";
import { Weights } from "../lib/traffic";
import { GateColorInputs, HealthGateInputs, healthGateProvider } from "./healthGateProvider";

/** A colour about to receive production traffic. */
export interface HealthGateColor {
    readonly color: Color;
    /** Its target group: the gate counts the healthy targets in it. */
    readonly targetGroupArn: pulumi.Input<string>;
    /** Healthy targets it needs (`service.minHealthyTargets`; at least 1). */
    readonly minHealthy: number;
    /** Its CloudWatch alarms: none may be in ALARM when this update gives the colour more traffic. */
    readonly alarmNames: pulumi.Input<pulumi.Input<string>[]>;
    /** The image it runs: a new image re-runs the gate. */
    readonly image: pulumi.Input<string>;
}

export interface HealthGateArgs {
    /** The colours with production traffic after this update (`colorsWithTraffic`). */
    readonly colors: readonly HealthGateColor[];
    /** Production weights after this update: a change re-runs the gate. @default none (only images trigger it) */
    readonly weights?: Weights;
    /**
     * The live colour and the colour the last flip left (`traffic.previous`) after this update:
     * traffic moving back to them is never blocked by their alarms (see `alarmGatedColors`).
     * @default none: every colour that gains traffic is checked
     */
    readonly lastSafe?: { readonly live: Color; readonly previous?: Color };
    /** How long the gate waits before failing the update (`service.gateTimeoutSeconds`). */
    readonly timeoutSeconds: number;
    /** Region of the target groups and alarms. */
    readonly region: pulumi.Input<string>;
    /**
     * A URL through the test listener and the colour that listener serves. Requested only when
     * that colour is one of `colors` (the candidate is about to get traffic: a canary or a
     * route); otherwise the listener serves a colour the gate is not deciding about.
     */
    readonly probe?: { readonly url: pulumi.Input<string>; readonly color: Color };
}

/**
 * Invariant 6 as a resource: `pulumi up` creates or updates it only once every colour about to
 * receive traffic has enough healthy targets and no firing alarm, and fails with the gate's
 * message otherwise. Production routing depends on it, so a failed gate leaves the listeners
 * with their previous weights. It re-runs only when the weights, the colours with traffic or
 * their images change (see `gateTrigger`).
 */
export class HealthGate extends pulumi.dynamic.Resource {
    /** What the gate checked, as stored in the state. */
    public readonly colors!: pulumi.Output<GateColorInputs[]>;

    constructor(name: string, args: HealthGateArgs, opts?: pulumi.CustomResourceOptions) {
        const probing = args.probe !== undefined && args.colors.some((c) => c.color === args.probe!.color);
        const inputs: Record<keyof HealthGateInputs, unknown> = {
            region: args.region,
            colors: args.colors.map((c) => ({
                color: c.color,
                targetGroupArn: c.targetGroupArn,
                minHealthy: Math.max(1, c.minHealthy),
                alarmNames: c.alarmNames,
                image: c.image,
            })),
            weights: { ...(args.weights ?? {}) },
            timeoutSeconds: args.timeoutSeconds,
            probeUrl: probing ? args.probe!.url : undefined,
            live: args.lastSafe?.live,
            previous: args.lastSafe?.previous,
        };
        super(healthGateProvider, name, inputs, opts);
    }
}
