/** Whole-program evaluation for tests: lib/program/evaluate.ts plus the committed stack files. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export type { Evaluation, FlatConfig } from "../../lib/program/evaluate";
export { evaluate, flatten, ofType, one } from "../../lib/program/evaluate";

export const ROOT = path.resolve(__dirname, "../..");

/** The `config:` map of a committed `Pulumi.<stack>.yaml`. */
export function stackFileConfig(stack: string): Record<string, unknown> {
    return parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;
}
