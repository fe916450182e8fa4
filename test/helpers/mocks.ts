/**
 * Pulumi runtime mocks for the whole mocha run (loaded by .mocharc.json). The mocks themselves
 * live in lib/program/mocks.ts (shared with `plan`); this file installs them once and resets
 * the record before each test.
 */
import { useStack, resetRecorded } from "../../lib/program/mocks";

export type { Recorded } from "../../lib/program/mocks";
export { ACCOUNT, REGION, promiseOf, registered, resetRecorded, settle, useStack } from "../../lib/program/mocks";

export const mochaHooks = {
    async beforeAll(): Promise<void> {
        await useStack("dev");
    },
    beforeEach(): void {
        resetRecorded();
    },
};
