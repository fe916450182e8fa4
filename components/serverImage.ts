import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as path from "node:path";
import { buildContextTag } from "../lib/images";

export interface ServerImageArgs {
    /**
     * The Docker build context (a folder with a Dockerfile), relative to the project. Without
     * one, only the repository is created (slots then run images pushed elsewhere, or promoted).
     */
    readonly context?: string;
    /**
     * Also expire tagged images beyond the newest N. Off by default: another stack (prod, after
     * `promote`) may run any of them, and ECR expires by count whatever runs the image.
     */
    readonly keepImages?: number;
    /** Keep the repository (and its images) when the stack is destroyed. @default false */
    readonly retainOnDelete?: boolean;
    readonly tags: Record<string, string>;
}

/**
 * The docker provider plugin's version: the SDK asks the engine for the plugin of its own version
 * (@pulumi/docker's utilities.getVersion reads its package.json).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const DOCKER_PROVIDER_VERSION: string = require("@pulumi/docker/package.json").version;

/** Untagged images are expired after this many days (a failed push leaves some behind). */
const UNTAGGED_EXPIRY_DAYS = 14;

/**
 * The ECR repository of the service and, when a slot builds, the image built from its context
 * and pushed under a tag that is never pushed twice. `repoDigest` is the digest-pinned reference
 * the fleets run.
 */
export class ServerImage extends pulumi.ComponentResource {
    public readonly repository: aws.ecr.Repository;
    /** `<repo>@sha256:<digest>` of the built image: immutable, what the task definition runs. */
    public readonly repoDigest?: pulumi.Output<string>;

    constructor(name: string, args: ServerImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("switchyard:image:ServerImage", name, {}, opts);
        const { retainOnDelete = false } = args;

        this.repository = new aws.ecr.Repository(
            `${name}-repo`,
            {
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                forceDelete: !retainOnDelete,
                tags: args.tags,
            },
            { parent: this, retainOnDelete },
        );
        new aws.ecr.LifecyclePolicy(
            `${name}-lifecycle`,
            { repository: this.repository.name, policy: JSON.stringify(lifecyclePolicy(args.keepImages)) },
            { parent: this },
        );

        if (args.context === undefined) {
            this.registerOutputs({ repositoryUrl: this.repository.repositoryUrl });
            return;
        }
        const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, { parent: this });
        // ECR refuses a second push of an existing tag in an immutable repository, even of the
        // same content ("ImageTagAlreadyExistsException",
        // https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html). So the
        // tag changes whenever the provider would rebuild: its first part hashes everything the
        // provider's context digest does (see buildContextTag), and its random part is renewed
        // with that hash and with the docker provider's version (an upgrade may hash differently).
        // A tag of the content hash alone would also be pushed again when an earlier context is
        // rebuilt after a flip pinned the slot (a revert, a re-release); the random part lives
        // exactly as long as this build in the state. Tags stay immutable, and every deployed
        // image is referenced by its digest.
        const contextTag = buildContextTag(path.resolve(args.context));
        const buildId = new random.RandomId(
            `${name}-build`,
            { byteLength: 4, keepers: { context: contextTag, dockerProvider: DOCKER_PROVIDER_VERSION } },
            { parent: this },
        );
        const image = new docker.Image(
            `${name}-image`,
            {
                build: { context: args.context, platform: "linux/amd64" },
                imageName: pulumi.interpolate`${this.repository.repositoryUrl}:${contextTag}-${buildId.hex}`,
                registry: {
                    server: this.repository.repositoryUrl,
                    username: auth.userName,
                    password: pulumi.secret(auth.password),
                },
            },
            { parent: this },
        );
        this.repoDigest = image.repoDigest;
        this.registerOutputs({ repositoryUrl: this.repository.repositoryUrl, repoDigest: this.repoDigest });
    }
}

/**
 * ECR lifecycle rules expire by count or age, whatever runs the image
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html). Every image
 * switchyard pushes keeps its tag forever, so by default only untagged images expire: nothing a
 * stack runs. `keepImages` adds a count rule on tagged images for repositories no other stack
 * pulls from.
 */
export function lifecyclePolicy(keepImages?: number): object {
    const rules: object[] = [
        {
            rulePriority: 1,
            description: `expire untagged images after ${UNTAGGED_EXPIRY_DAYS} days`,
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: UNTAGGED_EXPIRY_DAYS },
            action: { type: "expire" },
        },
    ];
    if (keepImages !== undefined) {
        rules.push({
            rulePriority: 2,
            description: `keep the last ${keepImages} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepImages },
            action: { type: "expire" },
        });
    }
    return { rules };
}
