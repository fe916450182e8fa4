/**
 * `status`: both colours of a service (slot, schema support, tasks, share of production traffic,
 * routes, test listener), which colour is live and which is the candidate; every service of the
 * stack, or the one `--service` names.
 */
import { BuiltFrom, COLORS, Color, Route, SwitchyardConfig, formatSchema } from "../../lib/config";
import { describeSlot } from "../../lib/release";
import { ServiceSpec } from "../../lib/stackSpec";
import { desiredTasks, fleetColors, productionWeights, testListenerTarget } from "../../lib/traffic";
import { renderTable } from "../../lib/table";
import { Io } from "../io";
import { loadStackFile } from "../stackFile";
import { serviceOf, stackSpecOf, trainOf } from "../transaction";
import { usageIfMissing } from "./missingStack";

/**
 * `status --stack S [--service NAME] [--json]`: reads the stack file (never writes it) and prints
 * both colours. One service (the single form, or `--service`): its status as it always was. The
 * services form without `--service`: every service, in stack-file order; `--json` is then
 * `{ stack, services: { <name>: <its status> } }`. `--train NAME` (main.ts refuses it with
 * `--service`): the train's members, in the train's order; `--json` is then
 * `{ stack, train, services: { <name>: <its status> } }`, the keys in the train's order.
 */
export function statusCommand(
    opts: { readonly stack: string; readonly dir: string; readonly json?: boolean; readonly service?: string; readonly train?: string },
    io: Io,
): void {
    const file = usageIfMissing(opts, () => loadStackFile(opts.dir, opts.stack));
    // An invalid file is refused as the editing commands refuse it (bad input, exit 2); so is an unknown --service.
    const spec = stackSpecOf(file);
    // A train's members in its order (a service after those it requires); else every service in file order.
    const train = opts.train !== undefined ? trainOf(spec, opts.train) : undefined;
    if (!train && (spec.form === "single" || opts.service !== undefined)) {
        const status = stackStatus(serviceOf(file, opts.service, "status"));
        if (opts.json) io.out(JSON.stringify(status, null, 2));
        else renderStatus(status).forEach((line) => io.out(line));
        return;
    }
    const services = train ? train.services.map((name) => serviceOf(file, name, "status")) : spec.services;
    const statuses = services.map(stackStatus);
    if (opts.json) {
        const services = Object.fromEntries(statuses.map((s) => [s.service, s]));
        io.out(JSON.stringify({ stack: spec.stack, ...(train ? { train: train.name } : {}), services }, null, 2));
        return;
    }
    statuses.forEach((status, i) => {
        if (i > 0) io.out("");
        renderStatus(status).forEach((line) => io.out(line));
    });
}

export interface ColorStatus {
    readonly color: Color;
    /** live, candidate (blue-green), or unused (the other colour with the rolling strategy). */
    readonly role: "live" | "candidate" | "unused";
    readonly slot:
        | { readonly kind: "image"; readonly image: string }
        | { readonly kind: "build"; readonly context: string }
        | { readonly kind: "empty" };
    /** Short form for people: `web@sha256:0123456789ab`, `build ./app` or `empty`. */
    readonly slotSummary: string;
    readonly schema?: string;
    /** An image pinned from a build of this stack: the context and its content hash (what `start --build` compares). */
    readonly builtFrom?: BuiltFrom;
    readonly idle: boolean;
    readonly tasks: number;
    /** Percent of the default production traffic. */
    readonly share: number;
    readonly routes: readonly string[];
    readonly testListener: boolean;
}

export interface StackStatus {
    readonly stack: string;
    /** The service's name in the services form (absent in the single form, whose status is as it always was). */
    readonly service?: string;
    readonly strategy: SwitchyardConfig["strategy"];
    readonly environment: SwitchyardConfig["environment"];
    readonly live: Color;
    readonly candidate?: Color;
    readonly canary?: { readonly percent: number; readonly stickiness?: number };
    readonly previous?: Color;
    readonly databaseSchema?: number;
    readonly colors: readonly ColorStatus[];
}

function describeRoute(route: Route, index: number): string {
    const parts: string[] = [];
    if (route.header) parts.push(`header ${route.header.name}=${route.header.values.join("|")}`);
    if (route.cookie) parts.push(`cookie ${route.cookie.name}=${route.cookie.value}`);
    if (route.sourceIps) parts.push(`sourceIps ${route.sourceIps.join(",")}`);
    if (route.hosts) parts.push(`hosts ${route.hosts.join(",")}`);
    if (route.query)
        parts.push(
            `query ${Object.entries(route.query)
                .map(([k, v]) => `${k}=${v}`)
                .join("&")}`,
        );
    return `routes[${index}] priority ${route.priority}: ${parts.join(" & ")}`;
}

export function stackStatus(cfg: SwitchyardConfig | ServiceSpec): StackStatus {
    const weights = productionWeights(cfg);
    const fleets = fleetColors(cfg);
    const test = testListenerTarget(cfg);
    const blueGreen = cfg.strategy === "blue-green";
    const colors = COLORS.map((color): ColorStatus => {
        const slot = cfg.slots[color];
        return {
            color,
            role: color === cfg.traffic.live ? "live" : fleets.includes(color) ? "candidate" : "unused",
            slot: !slot
                ? { kind: "empty" }
                : slot.kind === "image"
                  ? { kind: "image", image: slot.image }
                  : { kind: "build", context: slot.context },
            slotSummary: describeSlot(slot),
            schema: slot?.schema ? formatSchema(slot.schema) : undefined,
            builtFrom: slot?.kind === "image" ? slot.builtFrom : undefined,
            idle: slot?.idle ?? false,
            tasks: fleets.includes(color) ? desiredTasks(cfg, color) : 0,
            share: weights[color],
            routes: cfg.traffic.routes.flatMap((r, i) => (r.color === color ? [describeRoute(r, i)] : [])),
            testListener: test === color,
        };
    });
    const keyPath = "keyPath" in cfg ? cfg.keyPath : [];
    return {
        stack: cfg.stack,
        ...(keyPath.length > 0 ? { service: cfg.service.name } : {}),
        strategy: cfg.strategy,
        environment: cfg.environment,
        live: cfg.traffic.live,
        candidate: blueGreen ? colors.find((c) => c.role === "candidate")?.color : undefined,
        canary: blueGreen ? cfg.traffic.canary : undefined,
        previous: cfg.traffic.previous,
        databaseSchema: cfg.database?.schema,
        colors,
    };
}

/** The status as a few lines of text: a header, a table of both colours, and the release state. */
export function renderStatus(s: StackStatus): string[] {
    const header = ["colour", "role", "slot", "schema", "tasks", "traffic", "routes", "test listener"];
    const rows = s.colors.map((c) => [
        c.color,
        c.role + (c.idle ? " (idle)" : ""),
        c.slotSummary,
        c.schema ?? "-",
        String(c.tasks),
        `${c.share}%`,
        c.routes.length ? c.routes.join("; ") : "-",
        c.testListener ? "yes" : "-",
    ]);
    const state: string[] = [`live: ${s.live}`];
    if (s.strategy === "blue-green") {
        state.push(`candidate: ${s.candidate}`);
        state.push(
            s.canary ? `canary: ${s.canary.percent}%${s.canary.stickiness ? ` (sticky ${s.canary.stickiness}s)` : ""}` : "canary: none",
        );
        state.push(`previous: ${s.previous ?? "none"}`);
    }
    if (s.databaseSchema !== undefined) state.push(`database schema: ${s.databaseSchema}`);
    const service = s.service !== undefined ? `, service ${s.service}` : "";
    return [
        `stack ${s.stack}${service} (${s.environment}, ${s.strategy})`,
        ...renderTable(header, rows, { separator: "  " }),
        state.join("   "),
    ];
}
