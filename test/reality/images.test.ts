/**
 * ECR: tag immutability and lifecycle expiry, over every tested stack.
 * - "After tag immutability is turned on, the ImageTagAlreadyExistsException error is returned if
 *   you push an image with a tag that is already in the repository."
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html
 * - Lifecycle rules expire images by count or age, whatever runs them.
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
 */
import { strict as assert } from "node:assert";
import {
    chmodSync,
    cpSync,
    readFileSync,
    mkdirSync,
    mkdtempSync,
    rmSync,
    symlinkSync,
    unlinkSync,
    utimesSync,
    writeFileSync,
    renameSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildContextTag } from "../../lib/images";
import { ofType } from "../helpers/program";
import { evaluatedScenarios } from "./scenarios";

describe("reality: ECR images", () => {
    before(async function () {
        this.timeout(60000);
        await evaluatedScenarios();
    });

    it("tests stacks that build (so the checks below check something)", async () => {
        const builds = (await evaluatedScenarios()).filter((s) => ofType(s.evaluation.resources, "docker:index/image:Image").length > 0);
        assert.ok(builds.length >= 2, `${builds.length} building stacks`);
    });

    it("never pushes a tag made of the content hash alone: a rebuild after a flip gets a fresh tag (defect 5)", async () => {
        for (const s of await evaluatedScenarios()) {
            for (const image of ofType(s.evaluation.resources, "docker:index/image:Image")) {
                const [buildId] = ofType(s.evaluation.resources, "random:index/randomId:RandomId").filter((r) =>
                    image.dependencies.includes(r.urn),
                );
                assert.ok(buildId, `${s.title}: the image tag must depend on a RandomId that lives as long as the build`);
                const tag = String(image.inputs.imageName).split(":").pop();
                assert.equal(tag, `${buildId.inputs.keepers.context}-0123abcd`, s.title);
                // A docker provider upgrade may hash contexts differently: a new random part then.
                assert.equal(
                    buildId.inputs.keepers.dockerProvider,
                    JSON.parse(readFileSync(require.resolve("@pulumi/docker/package.json"), "utf8")).version,
                    s.title,
                );
                assert.match(
                    buildId.inputs.keepers.context,
                    /^build-[0-9a-f]{16}$/,
                    "a new context replaces the RandomId, so its tag is new too",
                );
            }
        }
    });

    it("keeps every repository's tags immutable and every task on a digest", async () => {
        for (const s of await evaluatedScenarios()) {
            for (const repo of ofType(s.evaluation.resources, "aws:ecr/repository:Repository")) {
                assert.equal(repo.inputs.imageTagMutability, "IMMUTABLE", s.title);
            }
            for (const task of ofType(s.evaluation.resources, "aws:ecs/taskDefinition:TaskDefinition")) {
                for (const c of JSON.parse(task.inputs.containerDefinitions)) assert.match(c.image, /@sha256:[0-9a-f]{64}$/, s.title);
            }
        }
    });

    it("expires no tagged image by default, so no image another stack runs (prod, after promote) is expirable", async () => {
        for (const s of await evaluatedScenarios()) {
            for (const policy of ofType(s.evaluation.resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy")) {
                const rules = JSON.parse(policy.inputs.policy).rules as { selection: { tagStatus: string } }[];
                assert.deepEqual(
                    rules.map((r) => r.selection.tagStatus),
                    ["untagged"],
                    s.title,
                );
            }
        }
    });

    /**
     * What triggers a build and what the tag hashes must be the same thing, or a rebuild pushes an
     * existing tag and ECR refuses it. The docker provider rebuilds whenever its context digest
     * changes: per file the relative path, the mode string and the contents (a symlink by its
     * resolved target), minus .dockerignore'd files, plus the Dockerfile
     * (pulumi/pulumi-docker provider/provider.go: hashContext, hashPath; Check recomputes it on
     * every preview and up, after the engine applied ignoreChanges:
     * pulumi/pulumi pkg/resource/deploy/step_generator.go). Each change below moves that digest,
     * so each must move the tag.
     */
    describe("the build tag changes whenever the docker provider would rebuild", () => {
        let dir: string;
        let context: string;
        beforeEach(() => {
            dir = mkdtempSync(path.join(tmpdir(), "switchyard-context-"));
            context = path.join(dir, "app");
            mkdirSync(path.join(context, "node_modules"), { recursive: true });
            writeFileSync(path.join(context, "Dockerfile"), "FROM node:24-alpine\nCOPY server.js .\n");
            writeFileSync(path.join(context, "server.js"), "console.log('v1')\n");
            writeFileSync(path.join(context, ".dockerignore"), "node_modules\n");
            writeFileSync(path.join(context, "node_modules", "dep.js"), "1\n");
            writeFileSync(path.join(context, "target-a"), "a");
            writeFileSync(path.join(context, "target-b"), "b");
            symlinkSync("target-a", path.join(context, "current"));
        });
        afterEach(() => rmSync(dir, { recursive: true, force: true }));

        const changes: [string, (c: string) => void][] = [
            ["a file's contents", (c) => writeFileSync(path.join(c, "server.js"), "console.log('v2')\n")],
            ["a file's name", (c) => renameSync(path.join(c, "server.js"), path.join(c, "main.js"))],
            ["a file's mode (chmod +x)", (c) => chmodSync(path.join(c, "server.js"), 0o755)],
            ["the .dockerignore file", (c) => writeFileSync(path.join(c, ".dockerignore"), "node_modules\n*.md\n")],
            ["a new empty file", (c) => writeFileSync(path.join(c, "empty"), "")],
            ["a symlink's target", (c) => (unlinkSync(path.join(c, "current")), symlinkSync("target-b", path.join(c, "current")))],
            // Not in the provider's digest while .dockerignore lists it, but it is once the
            // .dockerignore changes: a superset never misses a rebuild (an extra build gets a new tag).
            ["a file .dockerignore lists", (c) => writeFileSync(path.join(c, "node_modules", "dep.js"), "2\n")],
        ];
        for (const [what, change] of changes) {
            it(`changes with ${what}`, () => {
                const before = buildContextTag(context);
                change(context);
                assert.notEqual(buildContextTag(context), before);
            });
        }

        it("stays the same for the same files elsewhere or touched (no rebuild, no push, no release)", () => {
            const before = buildContextTag(context);
            const copy = path.join(dir, "elsewhere");
            cpSync(context, copy, { recursive: true, verbatimSymlinks: true });
            utimesSync(path.join(copy, "server.js"), new Date(0), new Date(0));
            assert.equal(buildContextTag(copy), before);
            assert.match(before, /^build-[0-9a-f]{16}$/);
        });
    });
});
