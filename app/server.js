"use strict";
// switchyard sample server: replace it with your own. Node 20 built-ins only, no build step.
//
// What a server behind switchyard's ALB must do to be released with zero downtime:
//   1. answer the health check (GET /healthz) with 200 while it serves;
//   2. on SIGTERM, answer the health check with 503 at once, keep serving for DRAIN_DELAY_SECONDS
//      while the load balancer notices, then stop accepting connections, finish every request
//      already accepted, and exit 0;
//   3. exit 1 after SHUTDOWN_TIMEOUT_SECONDS whatever is still running, before ECS's stopTimeout
//      sends SIGKILL. See README.md for how these numbers relate to the stack's settings.

const http = require("node:http");

function readSeconds(name, fallback) {
    const raw = process.env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
        throw new Error(`${name} must be a number of seconds >= 0 (got ${JSON.stringify(raw)})`);
    }
    return value;
}

function readPort() {
    const raw = process.env.PORT;
    if (raw === undefined || raw === "") return 8080;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 65535) {
        throw new Error(`PORT must be an integer 0..65535 (got ${JSON.stringify(raw)})`);
    }
    return value;
}

function log(event, fields = {}) {
    process.stdout.write(JSON.stringify({ time: new Date().toISOString(), event, ...fields }) + "\n");
}

let config;
try {
    config = {
        port: readPort(),
        color: process.env.COLOR || "unknown",
        build: process.env.BUILD_ID || "dev",
        drainDelayMs: readSeconds("DRAIN_DELAY_SECONDS", 0) * 1000,
        shutdownTimeoutMs: readSeconds("SHUTDOWN_TIMEOUT_SECONDS", 25) * 1000,
    };
} catch (err) {
    log("exit", { code: 2, reason: err.message });
    process.exit(2);
}

if (config.drainDelayMs >= config.shutdownTimeoutMs) {
    log("warning", { message: "DRAIN_DELAY_SECONDS >= SHUTDOWN_TIMEOUT_SECONDS: every shutdown will time out" });
}

const startedAt = new Date().toISOString();
const MAX_WORK_MS = 60_000;

/** "serving" → "draining" (SIGTERM received, still listening) → "closing" (listener closed). */
let phase = "serving";
let shutdownStartedAt = 0;
let inFlight = 0;
let requestsHandled = 0;

function send(res, status, body, contentType = "text/plain; charset=utf-8") {
    const payload = typeof body === "string" ? body : JSON.stringify(body);
    const headers = {
        "Content-Type": contentType,
        "Content-Length": Buffer.byteLength(payload),
        "Cache-Control": "no-store",
    };
    // Once shutdown has started, tell keep-alive clients not to reuse this connection: the
    // socket then closes right after this response instead of lingering until the deadline.
    if (phase !== "serving") headers.Connection = "close";
    res.writeHead(status, headers);
    res.end(res.req.method === "HEAD" ? undefined : payload);
}

function handle(req, res) {
    const url = new URL(req.url, "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("Allow", "GET, HEAD");
        return send(res, 405, "method not allowed\n");
    }
    switch (url.pathname) {
        case "/healthz":
            return phase === "serving" ? send(res, 200, "ok\n") : send(res, 503, "draining\n");
        case "/version":
            return send(res, 200, { build: config.build, color: config.color, startedAt }, "application/json");
        case "/":
            return send(res, 200, `hello from ${config.color} (build ${config.build})\n`);
        case "/work": {
            // Demo of in-flight draining: answers after ?ms= milliseconds (at most 60 s).
            const ms = Number(url.searchParams.get("ms") ?? "100");
            if (!Number.isInteger(ms) || ms < 0 || ms > MAX_WORK_MS) {
                return send(res, 400, `ms must be an integer 0..${MAX_WORK_MS}\n`);
            }
            const timer = setTimeout(() => send(res, 200, `worked ${ms} ms on ${config.color}\n`), ms);
            res.on("close", () => clearTimeout(timer));
            return undefined;
        }
        default:
            return send(res, 404, "not found\n");
    }
}

const server = http.createServer((req, res) => {
    inFlight += 1;
    requestsHandled += 1;
    res.on("close", () => {
        inFlight -= 1;
        // A busy keep-alive socket becomes idle once its response is done; during closing,
        // close it now rather than waiting for the client.
        if (phase === "closing") setImmediate(() => server.closeIdleConnections());
    });
    try {
        handle(req, res);
    } catch (err) {
        log("error", { message: err.message });
        if (!res.headersSent) send(res, 500, "internal error\n");
    }
});

// The ALB's idle timeout is 60 s by default; the server's keep-alive timeout must be longer so
// that the ALB, not the server, closes idle connections (otherwise the ALB can send a request
// on a socket the server is closing and answer 502).
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

function exit(code, fields = {}) {
    log("exit", { code, ...fields });
    process.exit(code);
}

function shutdown(signal) {
    if (phase !== "serving") {
        log("signal-ignored", { signal, phase });
        return;
    }
    phase = "draining";
    shutdownStartedAt = Date.now();
    log("draining", {
        signal,
        inFlight,
        drainDelayMs: config.drainDelayMs,
        shutdownTimeoutMs: config.shutdownTimeoutMs,
    });

    // Hard deadline: whatever is still running is abandoned, before the orchestrator's SIGKILL.
    setTimeout(() => {
        exit(1, {
            reason: "shutdown timeout",
            inFlight,
            drainMs: Date.now() - shutdownStartedAt,
        });
    }, config.shutdownTimeoutMs);

    // Keep accepting connections while the load balancer sees /healthz fail and stops routing.
    setTimeout(() => {
        phase = "closing";
        // Stops accepting; in Node >= 19 this also closes idle keep-alive sockets. The callback
        // runs once every connection (and so every in-flight request) is finished.
        server.close(() => {
            const drainMs = Date.now() - shutdownStartedAt;
            log("drained", { drainMs, requestsHandled });
            exit(0, { drainMs });
        });
        server.closeIdleConnections();
    }, config.drainDelayMs);
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

server.listen(config.port, () => {
    log("started", {
        port: server.address().port,
        color: config.color,
        build: config.build,
        drainDelayMs: config.drainDelayMs,
        shutdownTimeoutMs: config.shutdownTimeoutMs,
        node: process.version,
    });
});
