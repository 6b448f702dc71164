import type { Plugin } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../tools/bundle-worker.mjs";

/** Repository root (two levels above this file). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the bundled test Worker is written (git-ignored). */
export const HOST_BUNDLE = join(ROOT, "test", ".tmp", "host.js");

/**
 * Bundles `test/worker/host.ts` (and the engine it imports from `src/`) into {@link HOST_BUNDLE}
 * as one ES module for workerd. `plugins` lets a probe replace the engine import.
 */
export async function buildHostWorker(outfile = HOST_BUNDLE, plugins: Plugin[] = []): Promise<string> {
  return bundleWorker({ entry: join(ROOT, "test", "worker", "host.ts"), outfile, plugins });
}
