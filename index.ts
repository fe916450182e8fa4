/**
 * switchyard: read the stack configuration, validate all of it, build the edge and the services
 * (program.ts), export what people and tools need. Bad configuration fails here, before any
 * resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStack, rawFromPulumiConfig } from "./lib/config";
import { unreachableAddressWarnings } from "./lib/parse/settings";
import { program } from "./program";

const spec = parseStack(rawFromPulumiConfig(pulumi.runtime.allConfig()), pulumi.getStack());
// Valid but useless settings: `pulumi preview`/`up` show these under Diagnostics.
for (const service of spec.services) for (const warning of unreachableAddressWarnings(service)) void pulumi.log.warn(warning);
const outputs = program(spec);
const single = outputs.form === "single" ? outputs : undefined;
const many = outputs.form === "services" ? outputs : undefined;

/** Where users go. */
export const productionUrl = outputs.productionUrl;
/** The candidate, for testers in testAccess.cidrs (blue-green only; single-service form). */
export const testUrl = single ? single.testUrl : undefined;
export const liveColor = single?.liveColor;
/** The colour the test listener serves, which a release goes into (blue-green only; single-service form). */
export const candidateColor = single ? single.candidateColor : undefined;
/** Share of default production traffic per colour, in percent (single-service form). */
export const weights = single?.weights;
/** The digest-pinned image each colour runs; null for an empty slot (single-service form). */
export const images = single?.images;
/** What the release tool and verify need to find the resources (single-service form). */
export const arns = single?.arns;
export const repositoryUrl = single?.repositoryUrl;
/** The services form: the shared edge, and each service's outputs (the single form's keys) by name. */
export const edge = many?.edge;
export const services = many?.services;
