/**
 * `npm run bench:startup`: how long `npm run switchyard -- status --stack dev` takes next to
 * `npm run` of a script that does nothing (`bench:noop`), measured in the same run, alternating,
 * so both see the same machine load. The goal (issue 9): at most 2x the no-op.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { performance } from "node:perf_hooks";

const ROOT = path.resolve(__dirname, "..");
const RUNS = Number(process.env.RUNS ?? 10);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function timed(args: string[]): number {
    const start = performance.now();
    const r = spawnSync(npm, args, { cwd: ROOT, encoding: "utf8", shell: process.platform === "win32" });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`npm ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
    const noop = ["run", "--silent", "bench:noop"];
    const status = ["run", "--silent", "switchyard", "--", "status", "--stack", "dev"];
    // One run of each first: the tool compiles its sources if they changed (not start-up time).
    timed(noop);
    timed(status);
    const times = { noop: [] as number[], status: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
        times.noop.push(timed(noop));
        times.status.push(timed(status));
    }
    const [n, s] = [median(times.noop), median(times.status)];
    console.log(`npm run bench:noop                            median ${n.toFixed(0)} ms over ${RUNS} runs`);
    console.log(`npm run switchyard -- status --stack dev       median ${s.toFixed(0)} ms over ${RUNS} runs`);
    console.log(`ratio ${(s / n).toFixed(2)}x (goal: at most 2x)`);
}

main();
