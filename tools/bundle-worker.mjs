import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Where `durable-dump` and `durable-dump/fleet` resolve: the sources, or the built package as npm ships it. */
const LIBRARY = {
  src: { "durable-dump": join(ROOT, "src", "index.ts"), "durable-dump/fleet": join(ROOT, "src", "fleet", "index.ts") },
  dist: { "durable-dump": join(ROOT, "dist", "index.js"), "durable-dump/fleet": join(ROOT, "dist", "fleet.js") },
};

/**
 * Bundles a Worker entry point (and durable-dump and durable-dump/fleet from `src/`, or from `dist/` with
 * `library: "dist"`) into one ES module for workerd, as the tests, the demo and the benchmark run
 * it under Miniflare.
 *
 * @param {{ entry: string, outfile: string, sourcemap?: boolean, plugins?: import("esbuild").Plugin[], library?: "src" | "dist" }} options
 * @returns {Promise<string>} the outfile
 */
export async function bundleWorker({ entry, outfile, sourcemap = true, plugins = [], library = "src" }) {
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
    alias: LIBRARY[library],
    sourcemap: sourcemap ? "inline" : false,
    logLevel: "error",
    plugins,
  });
  return outfile;
}
