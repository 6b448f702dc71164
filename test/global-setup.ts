import { buildHostWorker } from "./harness/build.js";

/** Vitest globalSetup: bundles the test Worker once per run, before any test file starts. */
export default async function setup(): Promise<void> {
  await buildHostWorker();
}
