// The sample server (app/server.js) drains without dropping a request: it is started as a real
// child process, put under keep-alive load and sent SIGTERM, as ECS does when it stops a task.
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";

const SERVER = path.resolve(__dirname, "../../app/server.js");

interface LogEvent {
    event: string;
    [field: string]: unknown;
}

interface Server {
    child: ChildProcess;
    port: number;
    events: LogEvent[];
    /** Resolves with the exit code and the time of exit (Date.now()). */
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const running: ChildProcess[] = [];

/** Starts app/server.js on a free port (PORT=0) and resolves once it logs "started". */
async function startServer(env: Record<string, string>): Promise<Server> {
    const child = spawn(process.execPath, [SERVER], {
        env: { PATH: process.env.PATH, PORT: "0", COLOR: "blue", BUILD_ID: "test-build", ...env },
        stdio: ["ignore", "pipe", "inherit"],
    });
    running.push(child);
    const events: LogEvent[] = [];
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
        child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    const port = await new Promise<number>((resolve, reject) => {
        let buffered = "";
        child.stdout!.setEncoding("utf8");
        child.stdout!.on("data", (chunk: string) => {
            buffered += chunk;
            let newline: number;
            while ((newline = buffered.indexOf("\n")) >= 0) {
                const line = buffered.slice(0, newline);
                buffered = buffered.slice(newline + 1);
                const event = JSON.parse(line) as LogEvent; // every stdout line must be one JSON object
                events.push(event);
                if (event.event === "started") resolve(event.port as number);
            }
        });
        void exited.then(({ code }) => reject(new Error(`server exited with ${code} before starting`)));
    });
    return { child, port, events, exited };
}

function get(port: number, urlPath: string, agent: http.Agent): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path: urlPath, agent }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
            res.on("error", reject);
        });
        req.on("error", reject);
    });
}

/** Polls /healthz until it answers 200; resolves with the number of responses it received. */
async function waitUntilHealthy(port: number): Promise<number> {
    const agent = new http.Agent({ keepAlive: false });
    for (let responses = 0; ;) {
        const reply = await get(port, "/healthz", agent).catch(() => undefined);
        if (reply) responses++;
        if (reply?.status === 200) return responses;
        await sleep(20);
    }
}

function waitForEvent(server: Server, name: string): Promise<LogEvent> {
    return new Promise((resolve) => {
        const poll = () => {
            const found = server.events.find((e) => e.event === name);
            if (found) resolve(found);
            else setTimeout(poll, 5);
        };
        poll();
    });
}

function errorCode(err: unknown): string {
    return (err as NodeJS.ErrnoException).code ?? String(err);
}

afterEach(() => {
    for (const child of running.splice(0)) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
});

describe("app/server.js", function () {
    this.timeout(15_000);

    it("serves /, /version and /healthz from its environment", async () => {
        const server = await startServer({ COLOR: "green", BUILD_ID: "sha256:abc" });
        const agent = new http.Agent({ keepAlive: false });
        await waitUntilHealthy(server.port);

        const version = await get(server.port, "/version", agent);
        assert.equal(version.status, 200);
        assert.match(version.headers["content-type"]!, /^application\/json/);
        const parsed = JSON.parse(version.body) as { build: string; color: string; startedAt: string };
        assert.equal(parsed.build, "sha256:abc");
        assert.equal(parsed.color, "green");
        assert.ok(!Number.isNaN(Date.parse(parsed.startedAt)), `startedAt ${parsed.startedAt}`);

        const hello = await get(server.port, "/", agent);
        assert.equal(hello.status, 200);
        assert.match(hello.body, /green/);
        assert.match(hello.body, /sha256:abc/);

        assert.equal((await get(server.port, "/healthz", agent)).body, "ok\n");
        assert.equal((await get(server.port, "/nope", agent)).status, 404);
        assert.equal((await get(server.port, "/work?ms=-1", agent)).status, 400);

        server.child.kill("SIGINT");
        assert.equal((await server.exited).code, 0);
    });

    it("drains under keep-alive load without failing an accepted request", async () => {
        const server = await startServer({ DRAIN_DELAY_SECONDS: "1", SHUTDOWN_TIMEOUT_SECONDS: "10" });
        let responses = await waitUntilHealthy(server.port); // every complete response, to compare with the server's count
        const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });
        const fresh = new http.Agent({ keepAlive: false });

        // Client-side model of the ALB: it routes requests until the target's health check fails
        // (or the target refuses connections), then sends it no new ones. Every request it did send
        // must get a complete 200.
        let stopIssuing = false;
        let ok = 0;
        const failures: string[] = [];
        let saw503 = false;

        const loop = async (i: number) => {
            for (let n = 0; !stopIssuing; n++) {
                const urlPath = (i + n) % 2 === 0 ? "/" : "/work?ms=200";
                try {
                    const reply = await get(server.port, urlPath, keepAlive);
                    responses++;
                    if (reply.status === 200) ok++;
                    else failures.push(`${urlPath}: HTTP ${reply.status}`);
                } catch (err) {
                    // A refused connection never reached the server: the ALB would retry elsewhere.
                    if (errorCode(err) === "ECONNREFUSED") stopIssuing = true;
                    else failures.push(`${urlPath}: ${errorCode(err)}`);
                }
            }
        };
        const healthPoller = async () => {
            while (!stopIssuing) {
                try {
                    const reply = await get(server.port, "/healthz", fresh);
                    responses++;
                    if (reply.status === 503) {
                        saw503 = true;
                        stopIssuing = true;
                    } else if (reply.status !== 200) failures.push(`/healthz: HTTP ${reply.status}`);
                } catch (err) {
                    if (errorCode(err) === "ECONNREFUSED") stopIssuing = true;
                    else failures.push(`/healthz: ${errorCode(err)}`);
                }
                await sleep(50);
            }
        };

        const load = Promise.all([...Array.from({ length: 16 }, (_, i) => loop(i)), healthPoller()]);
        await sleep(500);
        // In flight when SIGTERM arrives, and still in flight when the listener closes 1 s later.
        const slow = get(server.port, "/work?ms=1500", keepAlive).then((reply) => {
            responses++;
            return reply;
        });
        await sleep(300);
        const sigtermAt = Date.now();
        server.child.kill("SIGTERM");

        const [, slowReply, exit] = await Promise.all([load, slow, server.exited]);
        keepAlive.destroy();

        const draining = server.events.find((e) => e.event === "draining");
        const drained = server.events.find((e) => e.event === "drained");
        console.log(
            `      ${ok} requests ok, ${failures.length} failed; drained in ${drained?.drainMs} ms, ` +
                `exited ${exit.at - sigtermAt} ms after SIGTERM`,
        );

        assert.deepEqual(failures, []);
        assert.ok(ok > 50, `only ${ok} requests completed: the load did not run`);
        assert.ok(saw503, "/healthz never answered 503 during the drain delay");
        assert.equal(slowReply.status, 200, "the in-flight slow request did not complete");
        assert.equal(slowReply.headers.connection, "close", "a response during drain must close its connection");
        assert.equal(exit.code, 0, `exit code ${exit.code} (signal ${exit.signal})`);
        assert.ok(draining && (draining.inFlight as number) >= 1, "the slow request was not in flight at SIGTERM");
        assert.ok(drained, "no drained event logged");
        // Nothing the server accepted went unanswered: it handled exactly what the client got back.
        assert.equal(drained.requestsHandled, responses);
        assert.ok((drained.drainMs as number) >= 1000, `drained in ${drained.drainMs} ms, before the 1 s delay`);
        assert.deepEqual(
            server.events.map((e) => e.event),
            ["started", "draining", "drained", "exit"],
        );
    });

    it("with no drain delay, closes idle keep-alive sockets and refuses new connections at once but finishes in-flight requests", async () => {
        const server = await startServer({ DRAIN_DELAY_SECONDS: "0", SHUTDOWN_TIMEOUT_SECONDS: "10" });
        await waitUntilHealthy(server.port);

        // An idle keep-alive connection: one request answered, socket left open.
        const idle = net.connect(server.port, "127.0.0.1");
        const idleClosed = new Promise<number>((resolve) => idle.on("close", () => resolve(Date.now())));
        idle.on("error", () => undefined);
        await new Promise<void>((resolve) => {
            idle.once("data", () => resolve());
            idle.write("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
        });

        const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });
        const inFlight = Array.from({ length: 4 }, () =>
            get(server.port, "/work?ms=800", keepAlive).then((reply) => ({ reply, at: Date.now() })),
        );
        await sleep(300);
        server.child.kill("SIGTERM");

        await waitForEvent(server, "draining");
        await sleep(200);
        const refused = await get(server.port, "/", new http.Agent({ keepAlive: false })).then(
            (reply) => `HTTP ${reply.status}`,
            (err: unknown) => errorCode(err),
        );

        const [done, idleClosedAt, exit] = await Promise.all([Promise.all(inFlight), idleClosed, server.exited]);
        keepAlive.destroy();

        assert.equal(refused, "ECONNREFUSED");
        assert.equal(server.events.find((e) => e.event === "draining")?.inFlight, 4);
        for (const { reply } of done) {
            assert.equal(reply.status, 200);
            assert.equal(reply.headers.connection, "close");
        }
        assert.ok(
            idleClosedAt < Math.min(...done.map((d) => d.at)),
            "the idle keep-alive socket stayed open until the busy ones were done",
        );
        assert.equal(exit.code, 0);
    });

    it("exits 1 at SHUTDOWN_TIMEOUT_SECONDS when a request outlives it", async () => {
        const server = await startServer({ DRAIN_DELAY_SECONDS: "0", SHUTDOWN_TIMEOUT_SECONDS: "1" });
        await waitUntilHealthy(server.port);
        const tooSlow = get(server.port, "/work?ms=10000", new http.Agent({ keepAlive: false })).then(
            (reply) => `HTTP ${reply.status}`,
            (err: unknown) => errorCode(err),
        );
        await sleep(300);
        const sigtermAt = Date.now();
        server.child.kill("SIGTERM");

        const exit = await server.exited;
        const elapsed = exit.at - sigtermAt;
        console.log(`      hard deadline: exited ${exit.code} ${elapsed} ms after SIGTERM`);

        assert.equal(exit.code, 1);
        assert.ok(elapsed >= 900 && elapsed < 5000, `exited ${elapsed} ms after SIGTERM, expected about 1000`);
        const last = server.events[server.events.length - 1];
        assert.equal(last.event, "exit");
        assert.equal(last.reason, "shutdown timeout");
        assert.equal(last.inFlight, 1);
        assert.equal(await tooSlow, "ECONNRESET"); // abandoned, as SIGKILL would
    });
});
