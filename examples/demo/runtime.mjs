// Builds the example Worker with esbuild and runs it in Miniflare (workerd): shared by
// `npm run demo` and the example's tests.
import { Miniflare } from "miniflare";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../tools/bundle-worker.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Entry points: the example Worker as users deploy it, and the demo's variant with seeding routes. */
export const ENTRIES = {
  example: join(ROOT, "examples", "worker", "src", "index.ts"),
  demo: join(ROOT, "examples", "demo", "demo-worker.ts"),
};

/**
 * Bundles `entry` into one ES module at `outfile`, resolving `durable-dump` to the sources in
 * src/ (so no `npm run build` is needed first), or with `library: "dist"` to the built package.
 * @param {string} entry
 * @param {string} outfile
 * @param {"src" | "dist"} [library]
 */
export function buildWorker(entry, outfile, library = "src") {
  return bundleWorker({ entry, outfile, sourcemap: false, library });
}

/**
 * Starts Miniflare with the bundled Worker: `TENANTS` is the SQLite-backed Durable Object class
 * (`className`), `DUMPS` a local R2 bucket. With `persistDir`, objects and R2 live on disk there.
 * `options` are more Miniflare options (other bindings, their persistence).
 * @param {{ scriptPath: string, className?: string, persistDir?: string, bindings?: Record<string, string>, options?: import("miniflare").MiniflareOptions }} options
 */
export async function startRuntime({ scriptPath, className = "Tenant", persistDir, bindings = {}, options = {} }) {
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    // Module names are relative to this root; the bundle may live outside the working directory.
    modulesRoot: dirname(scriptPath),
    compatibilityDate: "2025-04-01",
    durableObjects: { TENANTS: { className, useSQLite: true } },
    r2Buckets: ["DUMPS"],
    bindings,
    ...(persistDir ? { durableObjectsPersist: join(persistDir, "do"), r2Persist: join(persistDir, "r2") } : {}),
    ...options,
  });
  await mf.ready;
  return mf;
}
