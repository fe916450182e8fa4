/**
 * moto's server (a real AWS API emulator) for the tests in one `describe` block: before the block,
 * points the AWS SDK at it (AWS_ENDPOINT_URL, AWS_REGION, dummy credentials), resets its state
 * before each test, and restores the environment after the block.
 *
 * One server per process (per mocha worker in parallel mode), started on a free 127.0.0.1 port by
 * the first block that needs it and reused by the next: starting moto costs a second or two. The
 * server exits when its stdin closes, i.e. when this process ends however it ends.
 *
 * Call `useMoto()` inside a `describe`, never at the top level of a file: top-level hooks would
 * become root hooks for every test file in the mocha run.
 */
import { ChildProcess, spawn } from "child_process";
import * as net from "net";
import { findMotoPython } from "./motoPython";

export const MOTO_REGION = "eu-west-1";

// The SDK warns once per process that its 2027 releases will need Node >= 22 (see README,
// "Development": Node 20 is past its end of life). The tests know; keep their output quiet.
// @aws-sdk/core emitWarningIfUnsupportedVersion reads this variable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const START_DEADLINE_MS = 30000;
const ENV_KEYS = [
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
] as const;

export interface MotoServer {
    /** `http://127.0.0.1:<port>`; set once the `before` hook has run. */
    readonly endpoint: string;
}

export function useMoto(): MotoServer {
    const server = { endpoint: "" };
    let saved: Record<string, string | undefined> = {};

    before(async function () {
        this.timeout(START_DEADLINE_MS + 5000);
        server.endpoint = await sharedServer();
        saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
        for (const k of ENV_KEYS) delete process.env[k];
        Object.assign(process.env, {
            AWS_ENDPOINT_URL: server.endpoint,
            AWS_REGION: MOTO_REGION,
            AWS_ACCESS_KEY_ID: "testing",
            AWS_SECRET_ACCESS_KEY: "testing",
        });
    });

    beforeEach(async () => {
        await motoApi(server.endpoint, "reset-auth", "inf");
        await motoApi(server.endpoint, "reset");
    });

    after(async () => {
        for (const k of ENV_KEYS) {
            if (saved[k] === undefined) delete process.env[k];
            else process.env[k] = saved[k];
        }
    });

    return server;
}

let shared: Promise<{ proc: ChildProcess; endpoint: string }> | undefined;

/** The endpoint of this process's moto server, started on first use (again if it died). */
async function sharedServer(): Promise<string> {
    const running = await shared?.catch(() => undefined);
    if (running && running.proc.exitCode === null && running.proc.signalCode === null) return running.endpoint;
    shared = startMoto();
    return (await shared).endpoint;
}

/** POST to moto's control API (`reset`, `reset-auth`). */
export async function motoApi(endpoint: string, action: string, body = ""): Promise<void> {
    const res = await fetch(`${endpoint}/moto-api/${action}`, { method: "POST", body });
    if (!res.ok) throw new Error(`moto ${action} failed: ${res.status} ${await res.text()}`);
}

/**
 * Calls an AWS query API (EC2, IAM) on moto with raw `fetch`: no SDK client for these services is
 * installed. moto routes by the service and region in the Authorization header and does not check
 * the signature unless authentication has been switched on with `reset-auth`.
 */
export async function queryApi(endpoint: string, service: "ec2" | "iam", params: Record<string, string>): Promise<string> {
    const version = service === "ec2" ? "2016-11-15" : "2010-05-08";
    const res = await fetch(`${endpoint}/`, {
        method: "POST",
        headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            Authorization: `AWS4-HMAC-SHA256 Credential=testing/20240101/${MOTO_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: new URLSearchParams({ Version: version, ...params }).toString(),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`moto ${service} ${params.Action} failed: ${res.status} ${text}`);
    return text;
}

/** Every text value of `<tag>` in an XML answer. */
export function xmlValues(xml: string, tag: string): string[] {
    return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

// moto's own entry point, plus a thread that ends the server when stdin closes: the parent's end
// (a worker mocha terminates, a Ctrl-C, a crash) always closes it, so no server outlives its run.
const SERVE_UNTIL_STDIN_CLOSES = [
    "import os, sys, threading",
    "threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()",
    "from moto.server import main",
    'main(["-p", sys.argv[1], "-H", "127.0.0.1"])',
].join("\n");

async function startMoto(): Promise<{ proc: ChildProcess; endpoint: string }> {
    const python = findMotoPython();
    const port = await freePort();
    const proc = spawn(python, ["-c", SERVE_UNTIL_STDIN_CLOSES, String(port)], {
        stdio: ["pipe", "ignore", "pipe"],
        env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    // Neither the child nor its pipes keep this process alive: mocha exits when its tests do.
    proc.unref();
    (proc.stdin as net.Socket).unref();
    (proc.stderr as net.Socket).unref();
    return { proc, endpoint: await waitUntilAnswering(proc, `http://127.0.0.1:${port}`, python) };
}

async function waitUntilAnswering(proc: ChildProcess, endpoint: string, python: string): Promise<string> {
    let stderr = "";
    proc.stderr!.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-2000);
    });
    let failure: string | undefined;
    proc.once("error", (err) => (failure = `cannot run ${python} (${err.message})`));
    proc.once("exit", (code) => (failure ??= `moto server (${python}) exited with code ${code} before answering: ${stderr.trim()}`));

    const deadline = Date.now() + START_DEADLINE_MS;
    while (Date.now() < deadline) {
        if (failure) throw new Error(failure);
        try {
            const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
            await res.body?.cancel();
            if (res.ok) return endpoint;
        } catch {
            // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    proc.kill("SIGKILL");
    throw new Error(`moto server did not answer on ${endpoint} within ${START_DEADLINE_MS / 1000} s: ${stderr.trim()}`);
}
