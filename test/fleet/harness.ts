/** The fleet suites' runtime: the test Worker (fleet demo + faults) in Miniflare, and a client. */
import type { Miniflare } from "miniflare";
import { join } from "node:path";
import { FleetClient, ROOT, buildFleetWorker, startFleetRuntime } from "../../examples/fleet/demo/runtime.mjs";

export const TEST_WORKER = join(ROOT, "test", "fleet", "worker.ts");

/** Small and fast: retries after 50 ms, a wait for an event gives up after 2 s, progress every 200 ms. */
export const FAST = {
  FLEET_STEP_RETRY_DELAY_MS: "50",
  FLEET_WAIT_TIMEOUT_MS: "2000",
  FLEET_PROGRESS_INTERVAL_MS: "200",
  DUMP_TICK_BUDGET_MS: "200",
};

/** The run id the example's cron handler gives a run scheduled at `time`. */
export { nightlyRunId as nightly } from "../../examples/fleet/demo/plan.mjs";

/** A client with the test Worker's routes too. */
export class TestClient extends FleetClient {
  declare mf: Miniflare;

  /** A `fleetBackup` call to `tenant`; `{ error: { code } }` when it throws. */
  call(tenant: string, call: unknown): Promise<any> {
    return this.post(`/_test/call/${tenant}`, call);
  }

  jobs(tenant: string): Promise<{ id: string; state: string; outputs: { key: string }[] }[]> {
    return this.json(`/_test/jobs/${tenant}`);
  }

  forgetJob(tenant: string, runId: string): Promise<boolean> {
    return this.post(`/_test/forget-job/${tenant}/${runId}`, {});
  }

  wake(instanceId: string): Promise<{ woken: boolean }> {
    return this.post(`/_test/wake/${instanceId}`, {});
  }
}

/** Builds the test Worker (once per file) and starts it with `bindings`. */
export async function startFleetTest(bindings: Record<string, string>, persistDir?: string): Promise<{ mf: Miniflare; client: TestClient }> {
  const scriptPath = await buildFleetWorker(join(ROOT, "test", ".tmp", "fleet-test.js"), { entry: TEST_WORKER });
  const mf = (await startFleetRuntime({ scriptPath, className: "FaultyTenant", bindings, ...(persistDir ? { persistDir } : {}) })) as Miniflare;
  return { mf, client: new TestClient(mf) };
}
