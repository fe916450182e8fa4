/** Shared fixtures for the release-tool tests: digests, raw configs and stack-file text. */
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RawConfig, SwitchyardConfig, parseConfig } from "../../lib/config";
import { Edit, StepResult, applyEdits } from "../../lib/release";
import { Io, main } from "../../cli/main";

export const REPO = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web";

/** A digest-pinned reference whose 64 hex digits are `hex` repeated. */
export function digest(hex: string): string {
    return `${REPO}@sha256:${hex.repeat(64 / hex.length)}`;
}

export const A = digest("a");
export const B = digest("b");
export const C = digest("c");

/** A dev stack file with both colours holding an image (blue A live, green B the candidate) and nothing more. */
export const TWO_IMAGES = `config:
  switchyard:service:
    name: web
  switchyard:slots:
    blue:
      image: ${A}
    green:
      image: ${B}
  switchyard:traffic:
    live: blue
`;

/** A valid blue-green raw config: blue live with image A, green empty; `over` replaces top-level keys. */
export function raw(over: Record<string, unknown> = {}): Record<string, unknown> {
    return { service: { name: "web", desiredCount: 2 }, slots: { blue: { image: A } }, traffic: { live: "blue" }, ...over };
}

export function cfg(over: Record<string, unknown> = {}, stack = "dev"): SwitchyardConfig {
    return parseConfig(raw(over), stack);
}

/** The edits of a successful step, failing the test with the refusal otherwise. */
export function edits(result: StepResult): readonly Edit[] {
    if (!result.ok) throw new Error(`expected the step to succeed, it refused: ${result.refusal}`);
    return result.edits;
}

export function refusal(result: StepResult): string {
    if (result.ok) throw new Error(`expected a refusal, got edits ${JSON.stringify(result.edits)}`);
    return result.refusal;
}

/** Applies a successful step's edits and parses the result (which must be valid). */
export function applied(raw: RawConfig, result: StepResult, stack = "dev"): { raw: Record<string, unknown>; cfg: SwitchyardConfig } {
    const next = applyEdits(raw, edits(result));
    return { raw: next, cfg: parseConfig(next, stack) };
}

const created: string[] = [];
after(() => {
    for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory holding the given stack files (name → text), removed after the run. */
export function stackDir(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-release-"));
    created.push(dir);
    for (const [stack, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return dir;
}

/** A Docker context `app/` (a Dockerfile and a server) in `dir`, as `start --build ./app` needs; returns its path. */
export function appContext(dir: string, server = "console.log('v1');\n"): string {
    const app = path.join(dir, "app");
    fs.mkdirSync(app, { recursive: true });
    fs.writeFileSync(path.join(app, "Dockerfile"), "FROM node:20-alpine\nCOPY server.js .\nCMD node server.js\n");
    fs.writeFileSync(path.join(app, "server.js"), server);
    return app;
}

export function read(dir: string, stack: string): string {
    return fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8");
}

export interface Run {
    readonly code: number;
    readonly out: string;
    readonly err: string;
}

/** Runs the CLI in-process. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = { PATH: "" }): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l), env };
    const code = await main(argv, io);
    return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A dev stack file with a comment on every key, in the yaml library's own layout. */
export const COMMENTED = `# dev stack: comments on every key must survive the release tool
encryptionsalt: v1:abc= # salt
config:
  aws:region: eu-west-1 # region
  # the service
  switchyard:service: # service settings
    name: web # resource prefix
    desiredCount: 2 # tasks with traffic
    idleCount: 1 # tasks after finish

  # the two colours
  switchyard:slots: # builds
    blue: # blue slot
      image: ${A} # blue digest
      schema: [3, 4] # blue schema support
    green: # green slot
      image: ${B} # green digest
      schema: [3, 4] # green schema support
  switchyard:traffic: # who gets traffic
    live: blue # live colour
    routes: # partial deployment
      - color: green # beta users
        header: # by header
          name: x-beta-user # header name
          values: [alice, bob] # header values
  switchyard:testAccess: # test listener
    cidrs: [10.0.0.0/8] # who may test
  switchyard:database: # database
    schema: 3 # current schema
# end of file
`;

/** A stack file laid out by hand: aligned comments, padded flow lists (like the committed ones). */
export const ALIGNED = `# aligned comments, as people write them
config:
  aws:region: eu-west-1
  switchyard:service:
    name: web
    desiredCount: 2          # tasks per colour with traffic
  switchyard:slots:
    # blue serves production
    blue:
      image: ${A}   # first release
      schema: [ 3, 4 ]
    green:
      build: ./app           # built by pulumi up
  switchyard:traffic:
    live: blue               # the colour that serves production
    canary:
      percent: 10            # share for green
      stickiness: 3600       # seconds
  switchyard:testAccess:
    cidrs: [10.0.0.0/8]      # who may reach the test listener
`;

export const ROOT = path.resolve(__dirname, "../..");

export interface CliOptions {
    readonly cwd?: string;
    readonly env?: NodeJS.ProcessEnv;
    /** Run as another user (needs root). */
    readonly as?: { uid: number; gid: number };
}

export type ProcessRun = Run & { readonly signal: NodeJS.Signals | null };

/**
 * Starts the tool as its own process, the way `npm run switchyard` does (cli/launch.js and the
 * compiled tree), minus npm's own start-up.
 */
export function startCli(argv: string[], options: CliOptions = {}): { child: ChildProcess; result: Promise<ProcessRun> } {
    const entry = options.as ? [otherUserCli()] : [path.join(ROOT, "cli", "launch.js")];
    const child = spawn(process.execPath, [...entry, ...argv], {
        cwd: options.cwd ?? ROOT,
        env: options.env ?? process.env,
        ...(options.as ?? {}),
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const result = new Promise<ProcessRun>((resolve) =>
        child.on("close", (code, signal) => resolve({ code: code ?? -1, out: out.trimEnd(), err: err.trimEnd(), signal })),
    );
    return { child, result };
}

export const spawnCli = (argv: string[], options: CliOptions = {}): Promise<ProcessRun> => startCli(argv, options).result;

let otherUserEntry: string | undefined;

/**
 * The launcher's compiled tree, copied into a world-readable folder, for runs as another user: that
 * user may not be able to enter the checkout (a clone under /root or in a mode-700 temporary
 * folder). Same compiled files the launcher runs (the launcher bundles the packages the editing
 * commands load: yaml and commander).
 */
function otherUserCli(): string {
    if (otherUserEntry) return otherUserEntry;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- plain JS, shared with npm run switchyard
    const { ensureBuilt } = require("../../cli/launch.js") as { ensureBuilt(): string };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-cli-"));
    created.push(dir);
    fs.cpSync(ensureBuilt(), dir, { recursive: true });
    const readable = (p: string): void => {
        const dirent = fs.statSync(p);
        fs.chmodSync(p, dirent.isDirectory() ? 0o755 : 0o644);
        if (dirent.isDirectory()) for (const name of fs.readdirSync(p)) readable(path.join(p, name));
    };
    readable(dir);
    otherUserEntry = path.join(dir, "cli", "main.js");
    return otherUserEntry;
}

/** A user without privileges, so that file modes apply (root reads and writes anything); undefined when not root. */
export const UNPRIVILEGED = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;

/**
 * A stack of two services on one load balancer (issue 16), comments in both: `api` on /api and
 * /api/* (match priority 100), then `web`, the load balancer's default; a comment after both.
 * api: blue A live, green B (candidate); web: blue A live, green C.
 */
export const TWO_SERVICES = `# two services behind one load balancer
config:
  aws:region: eu-west-1
  switchyard:testAccess:
    cidrs: [203.0.113.0/24]   # testers
  switchyard:loadBalancer:
    default: web              # requests no rule matches
  switchyard:services:
    api:
      match:                  # api's block of rules starts at 100
        paths: [/api, /api/*]
        priority: 100
      service:
        port: 9090            # api listens here
      slots:
        blue:
          image: ${A}   # api's first build
        green:
          image: ${B}
      traffic:
        live: blue            # api serves from blue
    web:
      match: { priority: 40000 }
      service:
        port: 8080            # web listens here
      slots:
        blue:
          image: ${A}
        green:
          image: ${C}   # web's next build, untested
      traffic:
        live: blue            # web serves from blue
# end of the services
`;

/** The text of the `api:` entry of TWO_SERVICES-shaped files, and everything around it. */
export function splitAtApi(text: string): { before: string; api: string; after: string } {
    const start = text.indexOf("\n    api:\n") + 1;
    const end = text.indexOf("\n    web:\n") + 1;
    return { before: text.slice(0, start), api: text.slice(start, end), after: text.slice(end) };
}

/**
 * A stack of two dependent services and the train `checkout` (issue 17): `web` is listed first in
 * the file, but the train's order is api, web (web requires api). api: blue A live (provides 2),
 * green B the candidate (provides 3); web: blue A live, green C, both requiring api [2, 3].
 */
export const TRAIN = `config:
  aws:region: eu-west-1
  switchyard:testAccess:
    cidrs: [203.0.113.0/24]
  switchyard:loadBalancer:
    default: web
  switchyard:services:
    web:
      match: { priority: 40000 }
      slots:
        blue:
          image: ${A}
          requires: { api: [2, 3] }
        green:
          image: ${C}
          requires: { api: [2, 3] }   # web's next build
      traffic:
        live: blue
    api:
      match:
        paths: [/api, /api/*]
        priority: 100
      service:
        port: 9090
      slots:
        blue:
          image: ${A}
          provides: 2
        green:
          image: ${B}
          provides: 3         # api's next interface
      traffic:
        live: blue
  switchyard:trains:
    checkout:
      services: [api, web]
`;
