#!/usr/bin/env node
/**
 * The `pulumi` CLI and `pulumi/actions` stand-in for test/pipeline/githubRun.spec.ts: records every
 * call (PULUMI_RECORD, one JSON line each) and keeps the stacks' outputs in PULUMI_STATE.
 *   pulumi login [url]                          ok
 *   pulumi actions <command> --stack S [--upsert true]   what pulumi/actions@v7 does: without upsert it
 *                                               only selects the stack, so a stack that does not exist fails
 *                                               (pulumi/actions src/main.ts: upsert ? createOrSelectStack : selectStack)
 *   pulumi up ... --stack S                     the CLI: the stack must exist
 *   pulumi stack output [images] --json --stack S
 * An `up` reads Pulumi.<S>.yaml: each slot's image, or for a `build` slot a new digest whenever the
 * context's content changed since the last build of that colour (Docker builds are not
 * reproducible: a rebuild of the same files pushes a different digest, so only "no rebuild"
 * keeps a digest).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain Node script on PATH */
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const { parse } = require("yaml");

const args = process.argv.slice(2);
fs.appendFileSync(process.env.PULUMI_RECORD, JSON.stringify({ args, cwd: process.cwd() }) + "\n");
const stateFile = process.env.PULUMI_STATE;
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, "utf8")) : { stacks: {}, builds: 0 };
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const stack = flag("--stack");
const fail = (message) => {
    process.stderr.write(`error: ${message}\n`);
    process.exit(1);
};

if (args[0] === "login") process.exit(0);

if (args[0] === "stack" && args[1] === "output") {
    const s = state.stacks[stack];
    if (!s) fail(`no stack named '${stack}' found`);
    process.stdout.write(JSON.stringify(args[2] === "images" ? s.outputs.images : s.outputs) + "\n");
    process.exit(0);
}

const isActions = args[0] === "actions";
if ((isActions && args[1] === "up") || args[0] === "up") {
    if (!state.stacks[stack]) {
        if (!(isActions && flag("--upsert") === "true")) fail(`no stack named '${stack}' found`);
        state.stacks[stack] = { slots: {}, outputs: {} };
    }
    up(state.stacks[stack]);
    save();
    process.exit(0);
}
fail(`the stand-in does not know: pulumi ${args.join(" ")}`);

function up(s) {
    const config = parse(fs.readFileSync(`Pulumi.${stack}.yaml`, "utf8")).config;
    const slots = config["switchyard:slots"] ?? {};
    const images = {};
    for (const color of ["blue", "green"]) {
        const slot = slots[color];
        if (!slot) {
            images[color] = null;
            delete s.slots[color];
        } else if (slot.image) {
            images[color] = slot.image;
            s.slots[color] = { image: slot.image };
        } else {
            const hash = contentHash(slot.build);
            const before = s.slots[color];
            const digest =
                before && before.hash === hash
                    ? before.digest
                    : `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:${crypto.createHash("sha256").update(`build ${++state.builds}`).digest("hex")}`;
            s.slots[color] = { hash, digest };
            images[color] = digest;
        }
    }
    const port = (config["switchyard:testAccess"] ?? {}).port ?? 9000;
    s.outputs = {
        liveColor: config["switchyard:traffic"].live,
        images,
        testUrl: `http://stand-in-alb.example.test:${port}`,
        productionUrl: "http://stand-in-alb.example.test",
    };
}

function contentHash(context) {
    const h = crypto.createHash("sha256");
    const walk = (dir) => {
        for (const name of fs.readdirSync(dir).sort()) {
            const p = path.join(dir, name);
            if (fs.statSync(p).isDirectory()) walk(p);
            else h.update(`${path.relative(context, p)}\0`).update(fs.readFileSync(p));
        }
    };
    walk(context);
    return h.digest("hex");
}
