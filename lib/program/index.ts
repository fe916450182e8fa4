/** Offline evaluation of the Pulumi program under Pulumi's runtime mocks (no credentials, CLI or network). */
export * from "./mocks";
export * from "./evaluate";
