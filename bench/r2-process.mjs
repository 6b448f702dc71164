/**
 * Local R2 in a second workerd process (the bench's default layout, `--r2-process`).
 *
 * workerd runs all of a process's JavaScript on one thread. With Miniflare's usual layout the R2
 * simulator (a Durable Object that pipes every part through a JS MD5 stream and writes it to disk)
 * runs on the same thread as the exporting object: ~90 ms of CPU per 8 MiB part, on the export's
 * wall time, ping latency and RSS. Production R2 is a remote service; the object only pays for
 * sending the bytes. So this starts the simulator in its own Miniflare instance (process B) and
 * gives the bench host (process A) a native `R2Bucket` binding whose requests go over loopback:
 *
 *   A: DUMPS (native r2Bucket binding) -> `external` HTTP service 127.0.0.1:<port>   (workerd, no JS)
 *   B: direct socket 127.0.0.1:<port> -> forwarding worker -> `r2:bucket:<id>` (Miniflare's R2 simulator)
 *
 * Both raw pieces (the external service in A, the binding to the simulator's internal service in
 * B) come from bench/miniflare-raw-bindings.mjs. The forwarding worker passes the binding's
 * requests through untouched; its body streams are piped by workerd.
 */
import { Miniflare, R2_PLUGIN } from "miniflare";
import { fileURLToPath } from "node:url";

const PLUGIN = { package: fileURLToPath(new URL("./miniflare-raw-bindings.mjs", import.meta.url)), name: "durable-dump-bench-raw" };

/** B's only user worker: every request on its socket is an R2 binding request from A. */
const FORWARD = `export default { fetch: (request, env) => env.R2.fetch(request) };`;

/**
 * Starts process B with a local bucket `bucketId` persisted in `persist`.
 * @returns {Promise<{ mf: Miniflare, address: string, bucketBinding: (name: string) => object }>}
 *   `bucketBinding(name)` is the `unsafeBindings` entry giving process A the bucket as `name`.
 */
export async function startR2Process({ bucketId = "dumps", persist }) {
  // The simulator's service name, "r2:bucket:<id>", as Miniflare's R2 plugin names it.
  const simulator = R2_PLUGIN.getBindings({ r2Buckets: { B: bucketId } })[0].r2Bucket.name;
  const mf = new Miniflare({
    modules: true,
    script: FORWARD,
    compatibilityDate: "2025-04-01",
    r2Buckets: { DUMPS: bucketId }, // makes Miniflare create the simulator services for bucketId
    r2Persist: persist,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }], // straight to the worker, no entry worker
    unsafeBindings: [{ name: "R2", type: "service", plugin: PLUGIN, options: { service: simulator } }],
  });
  await mf.ready;
  const address = (await mf.unsafeGetDirectURL()).host;
  return { mf, address, bucketBinding: (name) => ({ name, type: "r2-external", plugin: PLUGIN, options: { address } }) };
}
