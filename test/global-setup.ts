import { rmSync } from "node:fs";
import { miniflareWorkDir, useWorkerdV8Flags } from "../tools/workerd/index.mjs";
import { buildHostWorker } from "./harness/build.js";

/**
 * Vitest globalSetup: bundles the test Worker once per run, before any test file starts, and
 * gives the run a temporary directory of its own ({@link miniflareWorkDir}), removed at the end.
 * Every workerd of the run gets the V8 flags of {@link useWorkerdV8Flags}.
 */
export default async function setup(): Promise<() => void> {
  // TMPDIR is read by os.tmpdir() in the test processes, which fork after this.
  const runTmp = miniflareWorkDir("durable-dump-test-");
  useWorkerdV8Flags();
  await buildHostWorker();
  return () => rmSync(runTmp, { recursive: true, force: true });
}
