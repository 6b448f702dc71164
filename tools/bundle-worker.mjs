import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Bundles a Worker entry point (and durable-dump from `src/`) into one ES module for workerd, as
 * the tests, the demo and the benchmark run it under Miniflare.
 *
 * @param {{ entry: string, outfile: string, sourcemap?: boolean, plugins?: import("esbuild").Plugin[] }} options
 * @returns {Promise<string>} the outfile
 */
export async function bundleWorker({ entry, outfile, sourcemap = true, plugins = [] }) {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    alias: { "durable-dump": join(ROOT, "src", "index.ts") },
    sourcemap: sourcemap ? "inline" : false,
    logLevel: "error",
    plugins,
  });
  return outfile;
}
