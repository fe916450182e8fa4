/**
 * `npm run bench`: how long the program takes to evaluate under Pulumi's mocks, and how many
 * resources it registers, for each committed stack file. Not a test: figures to watch over time.
 */
import { performance } from "node:perf_hooks";
import { mochaHooks } from "../test/helpers/mocks";
import { evaluate, stackFileConfig } from "../test/helpers/program";

const RUNS = 5;

async function main(): Promise<void> {
    await mochaHooks.beforeAll();
    for (const stack of ["dev", "prod"]) {
        const config = stackFileConfig(stack);
        const times: number[] = [];
        let resources = 0;
        for (let i = 0; i < RUNS + 1; i++) {
            const start = performance.now();
            const result = await evaluate(stack, config);
            // The first run pays for loading and compiling the modules; report it apart.
            times.push(performance.now() - start);
            resources = result.resources.length;
        }
        const [cold, ...warm] = times;
        const sorted = [...warm].sort((a, b) => a - b);
        console.log(
            `${stack}: ${resources} resources; first evaluation ${cold.toFixed(0)} ms, ` +
                `then median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms over ${RUNS} runs (min ${sorted[0].toFixed(0)}, max ${sorted[sorted.length - 1].toFixed(0)})`,
        );
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
