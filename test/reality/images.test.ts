/**
 * ECR: tag immutability and lifecycle expiry, over every tested stack.
 * - "After tag immutability is turned on, the ImageTagAlreadyExistsException error is returned if
 *   you push an image with a tag that is already in the repository."
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html
 * - Lifecycle rules expire images by count or age, whatever runs them.
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
 */
import { strict as assert } from "node:assert";
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
});
