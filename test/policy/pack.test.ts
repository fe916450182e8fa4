/**
 * The pack as the Pulumi CLI runs it, minus the CLI: the `pulumi-analyzer-policy` shim resolves
 * `@pulumi/pulumi/cmd/run-policy-pack` from the policy/ folder (Node walks up to the root
 * node_modules) and runs it there with ts-node, transpiling only (tsc in .ci/run checks its types); the pack prints its gRPC port and
 * the engine talks to it over the Analyzer service. This test does the same, then calls
 * GetAnalyzerInfo, Analyze and AnalyzeStack like the engine would.
 */
import { ChildProcess, spawn } from "node:child_process";
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ecrImmutableAndScanned, policies, testListenerNotPublic } from "../../policy/policies";
import { Recorded } from "../helpers/mocks";
import { ROOT, evaluate, stackFileConfig } from "../helpers/program";

const POLICY_DIR = path.join(ROOT, "policy");
/* eslint-disable @typescript-eslint/no-require-imports -- untyped generated gRPC modules */
// The gRPC stack @pulumi/pulumi itself uses, resolved from it (not a direct dependency).
const fromPulumi = (id: string) => require(require.resolve(id, { paths: [path.dirname(require.resolve("@pulumi/pulumi"))] }));
const grpc = fromPulumi("@grpc/grpc-js");
const rpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const pb = require("@pulumi/pulumi/proto/analyzer_pb");
const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb");
/* eslint-enable @typescript-eslint/no-require-imports */
const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb");

function call<T>(client: any, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

function analyzerResource(r: Recorded, Type: any): any {
    const res = new Type();
    res.setType(r.type);
    res.setName(r.name);
    res.setUrn(r.urn);
    res.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.inputs))));
    res.setOptions(new pb.AnalyzerResourceOptions());
    return res;
}

function diagnostics(res: any): Array<[string, string]> {
    return res.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getMessage()]);
}

describe("policy pack: served the way `pulumi preview --policy-pack policy` runs it", function () {
    this.timeout(90_000);
    let pack: ChildProcess | undefined;
    let client: any;
    let stderr = "";

    before(async () => {
        // What the pulumi-analyzer-policy shim does: resolve the runner from the pack's folder.
        const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [POLICY_DIR] });
        // Without ts-node's type-check of the pack (~10 s; tsc in .ci/run checks its types): test/helpers/policyPackTranspileOnly.js.
        const transpileOnly = path.join(ROOT, "test", "helpers", "policyPackTranspileOnly.js");
        pack = spawn(process.execPath, ["--require", transpileOnly, runner, "127.0.0.1:0", "."], {
            cwd: POLICY_DIR,
            stdio: ["ignore", "pipe", "pipe"],
        });
        pack.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            pack!.stdout!.on("data", (d) => {
                out += d;
                if (/^\d+\s*$/m.test(out)) resolve(out.trim());
            });
            pack!.on("exit", (code) => reject(new Error(`policy pack exited with ${code} before serving:\n${out}\n${stderr}`)));
        });
        client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        pack?.kill();
    });

    it("loads from the root node_modules and announces every policy with its enforcement level", async () => {
        const info: any = await call(client, "getAnalyzerInfo", new Empty());
        assert.equal(info.getName(), "switchyard");
        assert.equal(info.getVersion(), JSON.parse(readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")).version);
        const levels = ["advisory", "mandatory"];
        assert.deepEqual(
            info.getPoliciesList().map((p: any) => [p.getName(), levels[p.getEnforcementlevel()]]),
            policies.map((p) => [p.name, p.enforcementLevel]),
        );
    });

    it("reports a violating resource over Analyze", async () => {
        const repo: Recorded = {
            type: "aws:ecr/repository:Repository",
            name: "web-image-repo",
            urn: "urn:pulumi:dev::switchyard::aws:ecr/repository:Repository::web-image-repo",
            inputs: { imageTagMutability: "MUTABLE", imageScanningConfiguration: { scanOnPush: true } },
            dependencies: [],
            custom: true,
            aliasNames: [],
            aliasUrns: [],
            parent: "",
        };
        const res = await call(client, "analyze", analyzerResource(repo, pb.AnalyzeRequest));
        // The server puts the policy's description on the line before the violation.
        assert.deepEqual(diagnostics(res), [
            [
                ecrImmutableAndScanned.name,
                `${ecrImmutableAndScanned.description}\n` +
                    'ECR repository web-image-repo: imageTagMutability is MUTABLE; set imageTagMutability: "IMMUTABLE" so a pushed tag can never point at a different image',
            ],
        ]);
    });

    it("runs the stack policy over AnalyzeStack, linking the ALB to its security group by dependency", async () => {
        const config = { ...stackFileConfig("dev"), "switchyard:testAccess": { cidrs: ["0.0.0.0/0"], port: 9000 } };
        const resources = (await evaluate("dev", config)).resources.filter((r) => r.custom && r.type.startsWith("aws:"));
        const request = new pb.AnalyzeStackRequest();
        request.setResourcesList(
            resources.map((r) => {
                const res = analyzerResource(r, pb.AnalyzerResource);
                res.setDependenciesList([...r.dependencies]);
                return res;
            }),
        );
        const res = await call(client, "analyzeStack", request);
        assert.deepEqual(
            diagnostics(res).map(([name]) => name),
            [testListenerNotPublic.name],
        );
        const [, message] = diagnostics(res)[0];
        assert.ok(message.startsWith(`${testListenerNotPublic.description}\n`), message);
        assert.match(
            message,
            /\nsecurity group web-alb: ingress rule #1 .* allows 0\.0\.0\.0\/0 to reach port 9000, the port of test listener web-test-listener;/,
        );
    });
});
