/**
 * The switchyard policy pack, served to the Pulumi engine:
 *   pulumi preview --policy-pack policy
 * The policies live in ./policies so tests can run them without starting this pack's server.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("switchyard", {
    description:
        "Platform rules for stacks deployed with switchyard: digest-pinned images, immutable scanned ECR, private test listener, hardened production ALB, weights that sum to 100, health-checked target groups.",
    policies,
});
