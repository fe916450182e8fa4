/**
 * mocha's global setup (loaded by .mocharc.json; runs once, before any worker starts): finds or
 * installs the Python that runs moto (test/helpers/motoPython.ts) and passes it to every worker
 * in SWITCHYARD_MOTO_PYTHON, so that parallel workers never install it twice at once.
 */
import { findMotoPython, MOTO_PYTHON_ENV } from "./motoPython";

export function mochaGlobalSetup(): void {
    process.env[MOTO_PYTHON_ENV] = findMotoPython();
}
