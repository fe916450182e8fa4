// smoke.sh over HTTPS (issue 14, item 2): a stack with switchyard:https serves its test listener
// with the user's ACM certificate, which names the user's domain and never the ALB's
// *.elb.amazonaws.com name: "each domain name that you specify must be validated to verify that you
// own or control the domain" (ACM RequestCertificate,
// https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html), so calling
// https://<alb dns>:9443 fails certificate verification. A local HTTPS server with a
// certificate for smoke.example.test plays the ALB at 127.0.0.1; curl trusts it through
// CURL_CA_BUNDLE, and --connect-to (https://curl.se/docs/manpage.html#--connect-to) sends the
// request for the certificate's name to the ALB's address.
import { strict as assert } from "node:assert";
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");
const HOST = "smoke.example.test";

describe("smoke.sh over HTTPS", function () {
    this.timeout(30_000);
    let tmp: string;
    let server: Server;
    let albUrl: string;
    const hosts: string[] = [];

    before(async () => {
        tmp = mkdtempSync(path.join(tmpdir(), "smoke-tls-"));
        const key = path.join(tmp, "key.pem");
        const cert = path.join(tmp, "cert.pem");
        execFileSync("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", `/CN=${HOST}`, "-addext", `subjectAltName=DNS:${HOST}`, "-keyout", key, "-out", cert,
        ], { stdio: "ignore" }); // prettier-ignore
        server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
            hosts.push(String(req.headers.host));
            if (req.url === "/healthz") res.writeHead(200).end("ok");
            else if (req.url === "/version") res.writeHead(200).end(JSON.stringify({ build: "b1", color: "green" }));
            else res.writeHead(404).end();
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        albUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
        server.close();
        rmSync(tmp, { recursive: true, force: true });
    });
    beforeEach(() => (hosts.length = 0));

    // One retry instead of twenty, so that a failing case takes seconds.
    const smoke = (url: string, env: Record<string, string>) =>
        new Promise<{ status: number | null; out: string }>((resolve) => {
            const file = path.join(tmp, "smoke.sh");
            const script = readFileSync(path.join(root, ".github", "scripts", "smoke.sh"), "utf8");
            writeFileSync(file, script.replace("--retry 20 --retry-delay 6", "--retry 1 --retry-delay 1"));
            chmodSync(file, 0o755);
            const child = spawn(file, [url, "green", "b1"], {
                env: { ...process.env, CURL_CA_BUNDLE: path.join(tmp, "cert.pem"), ...env },
            });
            let out = "";
            child.stdout.on("data", (d: Buffer) => (out += d));
            child.stderr.on("data", (d: Buffer) => (out += d));
            child.on("close", (status) => resolve({ status, out }));
        });

    it("calls the certificate's host name, connected to the ALB from the URL, and verifies the certificate", async () => {
        const r = await smoke(albUrl, { SMOKE_TLS_HOST: HOST });
        assert.equal(r.status, 0, r.out);
        const port = new URL(albUrl).port;
        assert.deepEqual(hosts, [`${HOST}:${port}`, `${HOST}:${port}`]);
        assert.match(r.out, new RegExp(`^GET https://${HOST.replace(/\./g, "\\.")}:${port}/healthz$`, "m"));
    });

    it("without SMOKE_TLS_HOST, refuses an https URL in one line naming the variable (the ALB's name never matches)", async () => {
        const r = await smoke(albUrl, { SMOKE_TLS_HOST: "" });
        assert.equal(r.status, 1);
        assert.equal(
            r.out.trim(),
            `::error::${albUrl} is HTTPS and its certificate names your domain, not the load balancer: set the repository variable SMOKE_TLS_HOST to a host name the certificate covers (docs/pipeline.md).`,
        );
        assert.deepEqual(hosts, []);
    });

    it("fails verification for a name the certificate does not cover", async () => {
        const r = await smoke(albUrl, { SMOKE_TLS_HOST: "other.example.test" });
        assert.notEqual(r.status, 0);
        assert.match(r.out, /SSL: no alternative certificate subject name matches target host name 'other\.example\.test'/);
    });
});
