import { build, type Plugin } from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (two levels above this file). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where the bundled test Worker is written (git-ignored). */
export const HOST_BUNDLE = join(ROOT, "test", ".tmp", "host.js");

/**
 * Bundles `test/worker/host.ts` (and the engine it imports from `src/`) into {@link HOST_BUNDLE}
 * as one ES module for workerd. `plugins` lets a probe replace the engine import.
 */
export async function buildHostWorker(outfile = HOST_BUNDLE, plugins: Plugin[] = []): Promise<string> {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(ROOT, "test", "worker", "host.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    sourcemap: "inline",
    logLevel: "error",
    plugins,
  });
  return outfile;
}
