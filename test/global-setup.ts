import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { useWorkerdV8Flags } from "../tools/workerd/index.mjs";
import { buildHostWorker } from "./harness/build.js";

/**
 * Vitest globalSetup: bundles the test Worker once per run, before any test file starts, and
 * gives the run a temporary directory of its own, removed at the end. Miniflare removes its
 * `miniflare-*` directory only fire-and-forget on `dispose()`, which a test process ending right
 * after its last `afterAll` cuts short: left in the system's, they add up to gigabytes a run. Every
 * workerd of the run gets the V8 flags of {@link useWorkerdV8Flags}.
 */
export default async function setup(): Promise<() => void> {
  const runTmp = mkdtempSync(join(tmpdir(), "durable-dump-test-"));
  // Read by os.tmpdir() in the test processes, which fork after this.
  process.env.TMPDIR = runTmp;
  useWorkerdV8Flags();
  await buildHostWorker();
  return () => rmSync(runTmp, { recursive: true, force: true });
}
