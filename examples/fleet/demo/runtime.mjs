// The fleet example in Miniflare (workerd): Durable Objects, local R2, local D1 and local
// Workflows in one runtime, and a client for the demo's routes. Shared by `npm run demo:fleet`,
// the fleet tests and `npm run bench:fleet`.
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../../tools/bundle-worker.mjs";
import { startRuntime } from "../../demo/runtime.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** The demo's Worker: the fleet example plus the `/_demo` routes. */
export const FLEET_DEMO_ENTRY = join(ROOT, "examples", "fleet", "demo", "demo-worker.ts");

/**
 * Bundles a fleet Worker entry (the demo's by default) into one ES module.
 * @param {string} outfile
 * @param {{ entry?: string, library?: "src" | "dist", plugins?: import("esbuild").Plugin[] }} [options]
 */
export function buildFleetWorker(outfile, { entry = FLEET_DEMO_ENTRY, library = "src", plugins = [] } = {}) {
  return bundleWorker({ entry, outfile, sourcemap: false, library, plugins });
}

/**
 * Miniflare's local Workflows create RPC stubs of their own in `instance.status()` and never
 * dispose of them, so workerd warns about them when it collects garbage; probes show that neither
 * the fleet's code nor the Worker's leave such stubs. Those two warnings are dropped; everything
 * else the runtime prints goes through.
 */
const LOCAL_WORKFLOWS_NOISE = /^An RPC (stub|result) was not disposed properly\./;

function forwardRuntimeOutput(stdout, stderr) {
  for (const [stream, out] of [
    [stdout, process.stdout],
    [stderr, process.stderr],
  ]) {
    createInterface({ input: stream }).on("line", (line) => {
      if (!LOCAL_WORKFLOWS_NOISE.test(line)) out.write(`${line}\n`);
    });
  }
}

/**
 * Starts Miniflare with a bundled fleet Worker: `TENANTS` (class `className`), `DUMPS` (R2), `DB`
 * (D1) and the `TENANT_BACKUPS` Workflow. With `persistDir`, objects, R2, D1 and the workflows'
 * state live on disk there, so a second runtime on the same directory continues where the first
 * stopped.
 * @param {{ scriptPath: string, className?: string, persistDir?: string, bindings?: Record<string, string> }} options
 */
export function startFleetRuntime({ scriptPath, className = "DemoTenant", persistDir, bindings = {} }) {
  return startRuntime({
    scriptPath,
    className,
    persistDir,
    bindings,
    options: {
      d1Databases: ["DB"],
      workflows: { TENANT_BACKUPS: { name: "tenant-backups", className: "TenantBackups" } },
      handleRuntimeStdio: forwardRuntimeOutput,
      ...(persistDir ? { d1Persist: join(persistDir, "d1"), workflowsPersist: join(persistDir, "workflows") } : {}),
    },
  });
}

/** Retries `fn` a few times: Node-side calls into a loaded workerd now and then fail with "fetch failed". */
async function retrying(fn, attempts = 5) {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}

/** A client of the fleet demo Worker's routes and of its Workflow binding. */
export class FleetClient {
  /** @param {import("miniflare").Miniflare} mf */
  constructor(mf) {
    this.mf = mf;
  }

  async json(path, init) {
    return retrying(async () => {
      const res = await this.mf.dispatchFetch(`http://fleet.local${path}`, init);
      const text = await res.text();
      if (res.status >= 400) throw new Error(`${init?.method ?? "GET"} ${path}: ${res.status} ${text.slice(0, 500)}`);
      return JSON.parse(text);
    });
  }

  post(path, body) {
    return this.json(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  }

  seed(tenant, rows, salt) {
    return this.post("/_demo/seed", { tenant, rows, salt });
  }

  checksum(tenant) {
    return this.json(`/_demo/checksum/${tenant}`);
  }

  /** `{ manifest, progress }` of a run. */
  run(runId) {
    return this.json(`/_demo/run/${runId}`);
  }

  /** Fires the Worker's cron handler, as the platform would at `time`. */
  async cron(time) {
    const worker = await this.mf.getWorker();
    return worker.scheduled({ cron: "0 3 * * *", scheduledTime: new Date(time) });
  }

  /** The status of instance `id` (a run or one of its children), or null when it does not exist. */
  async instanceStatus(id) {
    return (await this.run(id)).instance;
  }

  /**
   * Waits until run `runId`'s instance ends, calling `onProgress(progress)` every `intervalMs`;
   * returns `{ status, manifest }`. Fails when the instance errors or `timeoutMs` passes.
   */
  async waitForRun(runId, { onProgress = () => {}, intervalMs = 250, timeoutMs = 600_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { instance: status, manifest, progress } = await this.run(runId);
      if (status && ["complete", "errored", "terminated"].includes(status.status)) {
        if (status.status !== "complete") throw new Error(`run ${runId} ended ${status.status}: ${JSON.stringify(status.error)}`);
        return { status, manifest: manifest ?? (await this.run(runId)).manifest };
      }
      await onProgress(progress);
      if (Date.now() > deadline) throw new Error(`run ${runId} still ${status?.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
