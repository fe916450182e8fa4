/**
 * `npm run bench`: how long the program takes to evaluate under Pulumi's mocks (and how many
 * resources it registers) for each committed stack file, next to what `plan` costs: two
 * evaluations and the diff in one process, and the whole command as a user runs it
 * (`node cli/launch.js plan --stack dev`, a fresh process). Not a test: figures to watch over time.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parse, stringify } from "yaml";
import { parseConfig, rawFromPulumiConfig } from "../lib/config";
import { buildPlan } from "../lib/plan/plan";
import { evaluate, flatten } from "../lib/program/evaluate";

const RUNS = 5;
const ROOT = path.resolve(__dirname, "..");

const configOf = (stack: string): Record<string, unknown> => parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;

/** Median, min and max of timed runs after one untimed-in-the-median first run. */
async function timed(runs: number, body: () => Promise<unknown>): Promise<{ cold: number; median: number; min: number; max: number }> {
    const times: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
        const start = performance.now();
        await body();
        times.push(performance.now() - start);
    }
    const [cold, ...warm] = times;
    const sorted = [...warm].sort((a, b) => a - b);
    return { cold, median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
}

const ms = (n: number) => `${n.toFixed(0)} ms`;

async function main(): Promise<void> {
    for (const stack of ["dev", "prod"]) {
        const config = configOf(stack);
        let resources = 0;
        const t = await timed(RUNS, async () => {
            resources = (await evaluate(stack, config)).resources.length;
        });
        console.log(
            `${stack}: ${resources} resources; first evaluation ${ms(t.cold)}, then median ${ms(t.median)} over ${RUNS} runs (min ${ms(t.min)}, max ${ms(t.max)})`,
        );
    }

    // plan for dev in one process: two evaluations (the committed file and the file now) and the diff.
    const dev = configOf("dev");
    const cfg = parseConfig(rawFromPulumiConfig(flatten(dev)), "dev");
    const p = await timed(RUNS, async () => {
        const before = await evaluate("dev", dev);
        const after = await evaluate("dev", dev);
        buildPlan({
            baseLabel: "HEAD",
            before: { file: dev, config: cfg, resources: before.resources },
            after: { file: dev, config: cfg, resources: after.resources },
        });
    });
    console.log(`plan dev in-process (two evaluations + diff): median ${ms(p.median)} (min ${ms(p.min)}, max ${ms(p.max)})`);

    await manyServices();

    // The command as a user runs it: a fresh process that loads the tool and Pulumi's SDK, then plans.
    const cli = await timed(3, async () =>
        execFileSync("node", [path.join(ROOT, "cli", "launch.js"), "plan", "--stack", "dev"], { cwd: ROOT }),
    );
    console.log(
        `node cli/launch.js plan --stack dev (fresh process): first ${ms(cli.cold)}, then median ${ms(cli.median)} (min ${ms(cli.min)}, max ${ms(cli.max)}); budget 3000 ms`,
    );
}

/**
 * A stack of `count` services on one load balancer: `web` as the default, the others each on
 * their own path block (priorities 100, 200, …), every one live on an image with a 10 % canary.
 */
export function manyServicesConfig(count: number): Record<string, unknown> {
    const digest = (c: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc@sha256:${c.repeat(64)}`;
    const services: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
        const name = i === 0 ? "web" : `svc${i}`;
        services[name] = {
            match: i === 0 ? { priority: 49000 } : { paths: [`/${name}`, `/${name}/*`], priority: i * 100 },
            service: { port: 8080, healthCheckPath: "/healthz", desiredCount: 2 },
            slots: { blue: { image: digest("a") }, green: { image: digest("b") } },
            traffic: { live: "blue", canary: { percent: 10 } },
        };
    }
    return {
        "aws:region": "eu-west-1",
        "switchyard:testAccess": { cidrs: ["203.0.113.0/24"] },
        "switchyard:loadBalancer": { default: "web" },
        "switchyard:services": services,
    };
}

/** Evaluation and `plan` (a fresh process, --base none) for 1, 10 and 40 services: both should grow linearly. */
async function manyServices(): Promise<void> {
    const dir = mkdtempSync(path.join(tmpdir(), "switchyard-bench-"));
    try {
        copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        for (const count of [1, 10, 40]) {
            const config = manyServicesConfig(count);
            let resources = 0;
            const t = await timed(3, async () => {
                resources = (await evaluate("bench", config)).resources.length;
            });
            writeFileSync(path.join(dir, "Pulumi.bench.yaml"), stringify({ config }));
            const cli = await timed(1, async () =>
                execFileSync("node", [path.join(ROOT, "cli", "launch.js"), "plan", "--stack", "bench", "--dir", dir, "--base", "none"], {
                    cwd: ROOT,
                }),
            );
            console.log(
                `${count} service(s): ${resources} resources; evaluation median ${ms(t.median)} (first ${ms(t.cold)}); ` +
                    `plan --base none (fresh process) ${ms(cli.median)}; budget for 40 services: evaluation under 5000 ms`,
            );
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
