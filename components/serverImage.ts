import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { buildContextTag } from "../lib/images";

export interface ServerImageArgs {
    /**
     * The Docker build context (a folder with a Dockerfile), relative to the project. Without
     * one, only the repository is created (slots then run images pushed elsewhere, or promoted).
     */
    readonly context?: string;
    /** Images the lifecycle policy keeps; older ones are expired. @default 30 */
    readonly keepImages?: number;
    /** Keep the repository (and its images) when the stack is destroyed. @default false */
    readonly retainOnDelete?: boolean;
    readonly tags: Record<string, string>;
}

/**
 * The ECR repository of the service and, when a slot builds, the image built from its context
 * and pushed under a content-hash tag. `repoDigest` is the digest-pinned reference the fleets run.
 */
export class ServerImage extends pulumi.ComponentResource {
    public readonly repository: aws.ecr.Repository;
    /** `<repo>@sha256:<digest>` of the built image: immutable, what the task definition runs. */
    public readonly repoDigest?: pulumi.Output<string>;

    constructor(name: string, args: ServerImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("switchyard:image:ServerImage", name, {}, opts);
        const { keepImages = 30, retainOnDelete = false } = args;

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
            {
                repository: this.repository.name,
                policy: JSON.stringify({
                    rules: [
                        {
                            rulePriority: 1,
                            description: `keep the last ${keepImages} images`,
                            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepImages },
                            action: { type: "expire" },
                        },
                    ],
                }),
            },
            { parent: this },
        );

        if (args.context === undefined) {
            this.registerOutputs({ repositoryUrl: this.repository.repositoryUrl });
            return;
        }
        const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, { parent: this });
        // Tags are immutable in the repository, so each distinct context gets its own tag.
        const tag = buildContextTag(path.resolve(args.context));
        const image = new docker.Image(
            `${name}-image`,
            {
                build: { context: args.context, platform: "linux/amd64" },
                imageName: pulumi.interpolate`${this.repository.repositoryUrl}:${tag}`,
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
