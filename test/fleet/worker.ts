/**
 * Test Worker of the fleet suites: the fleet demo Worker, whose tenant class (`FaultyTenant`)
 * breaks on purpose for the objects named in these vars (comma-separated names):
 * - `FAULT_START`: every `start` call throws (the run's step retries it, then gives up);
 * - `FAULT_START_ONCE`: the first `start` call throws;
 * - `FAULT_START_LOST`: the first `start` call starts the export, then throws (its answer is lost);
 * - `FAULT_EXPORT`: every export fails (each part upload throws a non-retryable R2 error);
 * - `FAULT_EXPORT_ONCE`: the first export fails;
 * - `FAULT_SILENT`: the object never announces the end of its exports (the run must ask it).
 * And routes: `POST /_test/call/<tenant>` (a `fleetBackup` call; an error answers `{ error: { message } }`),
 * `GET /_test/jobs/<tenant>` (its export jobs), `POST /_test/forget-job/<tenant>/<runId>` (clears
 * the job id of the run's record, as a crash between the job's save and the record's would), and
 * `POST /_test/wake/<instanceId>` (an event that wakes an instance after a restart).
 */
import type { FleetBackupCall } from "../../src/fleet/index.js";
import { readFleetRecord, saveFleetRecord } from "../../src/persisted/fleet-record.js";
import { DemoTenant } from "../../examples/fleet/demo/demo-worker.js";
import demo from "../../examples/fleet/demo/demo-worker.js";
import type { Env as FleetEnv } from "../../examples/fleet/src/env.js";

export { TenantBackups } from "../../examples/fleet/src/backups.js";

interface Env extends FleetEnv {
  FAULT_START?: string;
  FAULT_START_ONCE?: string;
  FAULT_START_LOST?: string;
  FAULT_EXPORT?: string;
  FAULT_EXPORT_ONCE?: string;
  FAULT_SILENT?: string;
}

const names = (list: string | undefined) => new Set((list ?? "").split(",").filter(Boolean));

/** What a tenant knows of itself for the faults: its name (learnt from the first call) and what already failed once. */
interface FaultState {
  object: string | null;
  startFailed: boolean;
  answerLost: boolean;
  exportFailed: boolean;
}

/** The bucket, with part uploads that throw while `failing()` says so. */
function faultyBucket(bucket: R2Bucket, failing: () => boolean): R2Bucket {
  const fail = () => Object.assign(new Error("injected: part upload refused"), { retryable: false });
  const wrap = (upload: R2MultipartUpload): R2MultipartUpload =>
    new Proxy(upload, {
      get(u, p) {
        if (p === "uploadPart" && failing()) return async () => Promise.reject(fail());
        const value = Reflect.get(u, p);
        return typeof value === "function" ? value.bind(u) : value;
      },
    });
  return new Proxy(bucket, {
    get(target, prop) {
      // createMultipartUpload answers a promise, resumeMultipartUpload the upload itself.
      if (prop === "createMultipartUpload")
        return async (...args: Parameters<R2Bucket["createMultipartUpload"]>) => wrap(await target.createMultipartUpload(...args));
      if (prop === "resumeMultipartUpload") return (...args: Parameters<R2Bucket["resumeMultipartUpload"]>) => wrap(target.resumeMultipartUpload(...args));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The workflow binding, with completion events of silent objects dropped. */
function quietWorkflow(workflow: Workflow, silent: () => boolean): Workflow {
  return new Proxy(workflow, {
    get(target, prop) {
      if (prop === "get") {
        return async (id: string) => {
          const instance = await target.get(id);
          return silent() ? { sendEvent: async () => {} } : instance;
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export class FaultyTenant extends DemoTenant {
  readonly #faults: FaultState;
  readonly #env: Env;

  constructor(ctx: DurableObjectState, env: Env) {
    const faults: FaultState = { object: null, startFailed: false, answerLost: false, exportFailed: false };
    const exportFails = () => {
      const name = faults.object ?? "";
      if (names(env.FAULT_EXPORT).has(name)) return true;
      if (!names(env.FAULT_EXPORT_ONCE).has(name) || faults.exportFailed) return false;
      faults.exportFailed = true;
      return true;
    };
    const silent = () => names(env.FAULT_SILENT).has(faults.object ?? "");
    super(ctx, { ...env, DUMPS: faultyBucket(env.DUMPS, exportFails), TENANT_BACKUPS: quietWorkflow(env.TENANT_BACKUPS, silent) });
    this.#faults = faults;
    this.#env = env;
  }

  override async fleetBackup(call: FleetBackupCall) {
    if (call.action === "start") {
      this.#faults.object = call.object;
      if (names(this.#env.FAULT_START).has(call.object)) throw new Error("injected: start refused");
      if (names(this.#env.FAULT_START_ONCE).has(call.object) && !this.#faults.startFailed) {
        this.#faults.startFailed = true;
        throw new Error("injected: start refused once");
      }
      if (names(this.#env.FAULT_START_LOST).has(call.object) && !this.#faults.answerLost) {
        this.#faults.answerLost = true;
        await super.fleetBackup(call);
        throw new Error("injected: the answer of start was lost");
      }
    }
    return super.fleetBackup(call);
  }

  /** Every export job of the object. */
  jobs() {
    return this.backups.engine.list({ limit: 1_000 });
  }

  /** Clears the job id of run `runId`'s record. */
  async forgetJob(runId: string) {
    const record = await readFleetRecord(this.ctx.storage, runId);
    if (!record) return false;
    await saveFleetRecord(this.ctx.storage, { ...record, jobId: null });
    return true;
  }
}

export default {
  async fetch(request, env) {
    const [, area, action, name, arg] = new URL(request.url).pathname.split("/");
    if (area !== "_test") return demo.fetch(request, env);
    const tenants = env.TENANTS as unknown as DurableObjectNamespace<FaultyTenant>;
    if (action === "call") {
      try {
        return Response.json(await tenants.getByName(name!).fleetBackup(await request.json()));
      } catch (error) {
        return Response.json({ error: { message: error instanceof Error ? error.message : String(error) } });
      }
    }
    if (action === "jobs") return Response.json(await tenants.getByName(name!).jobs());
    if (action === "forget-job") return Response.json(await tenants.getByName(name!).forgetJob(arg!));
    if (action === "wake") {
      const woken = await env.TENANT_BACKUPS.get(name!).then(
        (i) => i.sendEvent({ type: "wake", payload: null }).then(() => true),
        () => false,
      );
      return Response.json({ woken });
    }
    return new Response("not found", { status: 404 });
  },
  scheduled: demo.scheduled,
} satisfies ExportedHandler<Env>;
