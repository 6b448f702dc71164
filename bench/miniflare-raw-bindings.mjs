/**
 * A Miniflare "external plugin" for the bench's two-process R2 layout (see bench/r2-process.mjs).
 *
 * Miniflare's own options cannot express two pieces of workerd config the layout needs, but a
 * plugin named in a worker's `unsafeBindings` may return raw workerd bindings and services:
 * Miniflare loads this file (`require.resolve` + `import()`, it reads `plugins`), hands each plugin
 * the worker's `unsafeBindings` entries that name it (no option validation), and adds what
 * `getBindings`/`getServices` return to the workerd config as is.
 *
 * Binding types (`unsafeBindings: [{ name, type, plugin, options }]`):
 * - `r2-external`, options `{ address: "host:port" }`: a NATIVE `R2Bucket` binding whose requests go
 *   to an `external` HTTP service at `address` (workerd's own HTTP client, no JavaScript on the way),
 *   like a production R2 binding whose requests leave the process for the remote R2 service.
 * - `service`, options `{ service: "<workerd service name>" }`: a service binding to ANY service of
 *   the config, e.g. Miniflare's internal R2 simulator `r2:bucket:<id>` (`serviceBindings` only
 *   reach user workers).
 */
const externalServiceName = (name) => `durable-dump-bench:r2-external:${name}`;

/** @type {Record<string, any>} */
export const plugins = {
  "durable-dump-bench-raw": {
    getBindings(entries = []) {
      return entries.map(({ name, type, options }) => {
        if (type === "r2-external") return { name, r2Bucket: { name: externalServiceName(name) } };
        if (type === "service") return { name, service: { name: options.service } };
        throw new Error(`durable-dump-bench-raw: unknown binding type ${type}`);
      });
    },
    getNodeBindings() {
      return {};
    },
    getServices({ options: entries = [] }) {
      return entries
        .filter((b) => b.type === "r2-external")
        .map(({ name, options }) => ({ name: externalServiceName(name), external: { address: options.address, http: {} } }));
    },
  },
};
