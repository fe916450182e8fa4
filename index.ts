/**
 * switchyard: read the stack configuration, validate all of it, build the service, export
 * what people and tools need. Bad configuration fails here, before any resource is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { BlueGreenService } from "./components/blueGreenService";
import { parseConfig, rawFromPulumiConfig } from "./lib/config";
import { unreachableAddressWarnings } from "./lib/parse/settings";
import { testListenerTarget } from "./lib/traffic";

const config = parseConfig(rawFromPulumiConfig(pulumi.runtime.allConfig()), pulumi.getStack());
// Valid but useless settings: `pulumi preview`/`up` show these under Diagnostics.
for (const warning of unreachableAddressWarnings(config)) void pulumi.log.warn(warning);
const service = new BlueGreenService(config.service.name, { config });
const fleets = service.fleets;

/** Where users go. */
export const productionUrl = service.productionUrl;
/** The candidate, for testers in testAccess.cidrs (blue-green only). */
export const testUrl = service.testUrl ?? null;
export const liveColor = service.liveColor;
/** The colour the test listener serves, which a release goes into (blue-green only). */
export const candidateColor = testListenerTarget(config) ?? null;
/** Share of default production traffic per colour, in percent. */
export const weights = service.weights;
/** The digest-pinned image each colour runs; null for an empty slot. */
export const images = {
    blue: service.images.blue ?? null,
    green: service.images.green ?? null,
};
/** What the release tool and verify need to find the resources. */
export const arns = {
    loadBalancer: service.trafficSwitch.loadBalancer.arn,
    productionListener: service.trafficSwitch.productionListener!.arn,
    testListener: service.trafficSwitch.testListener?.arn ?? null,
    cluster: service.cluster.arn,
    repository: service.serverImage.repository.arn,
    targetGroups: { blue: fleets.blue?.targetGroup.arn ?? null, green: fleets.green?.targetGroup.arn ?? null },
    services: { blue: fleets.blue?.service?.id ?? null, green: fleets.green?.service?.id ?? null },
};
export const repositoryUrl = service.serverImage.repository.repositoryUrl;
