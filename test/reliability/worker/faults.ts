/**
 * Deterministic fault injection: thin wrappers around the real R2 bucket and the real Durable
 * Object storage that count every I/O step and break the chosen one.
 *
 * - mode "throw": step N throws before doing anything (an I/O error the engine sees).
 * - mode "die": step N succeeds, then the "process dies": it throws, and so does every later
 *   step of this engine instance (nothing more can reach storage or R2). The host then drops the
 *   engine, as an eviction would.
 */
import type { DumpStorage, TransactionalStorage } from "../../../src/index.js";

/** Kinds of steps the wrappers count. Reads are counted only when `reads` is set. */
export type StepKind =
  | "storage.put"
  | "storage.delete"
  | "storage.setAlarm"
  | "storage.get"
  | "storage.list"
  | "storage.getAlarm"
  | "r2.head"
  | "r2.createMultipartUpload"
  | "r2.uploadPart"
  | "r2.complete"
  | "r2.abort"
  | "r2.delete"
  | "r2.get"
  | "r2.put"
  | "storage.transactionSync"
  | "storage.kv.get"
  | "storage.kv.put"
  | "storage.kv.delete"
  | "storage.sync"
  | "sql.exec";

export interface FaultPlan {
  /** 1-based step to break; null for none. */
  failAt: number | null;
  mode: "throw" | "die";
  /** Count storage reads as steps too. */
  reads?: boolean;
  /** Instead of step `failAt`: the next `times` steps of this kind throw `message` (the plan is shared by later engines). */
  kind?: StepKind;
  times?: number;
  message?: string;
  /**
   * Once, right after the first step of this kind succeeds, the host aborts every active job: as a
   * request would that arrives while the step's I/O is in flight.
   */
  abortAfter?: StepKind;
}

/** The error every injected fault throws. */
export class InjectedFault extends Error {
  override readonly name = "InjectedFault";
}

const READS = new Set<StepKind>(["storage.get", "storage.list", "storage.getAlarm", "storage.kv.get"]);

/** Counts steps and decides which one breaks. One per engine instance. */
export class FaultController {
  readonly log: StepKind[] = [];
  /** Steps whose own operation threw (a transaction whose closure failed, say): they cannot "die" after succeeding. */
  readonly threw: number[] = [];
  /** Storage and R2 writes by kind (always counted, whatever the plan). */
  readonly writes: Record<string, number> = {};
  /** Every storage key read: asked for by `get`, or returned by `list` (always recorded, whatever the plan). */
  readonly reads: string[] = [];
  dead = false;
  triggered: { step: number; kind: StepKind; mode: FaultPlan["mode"] } | null = null;
  /** What the host does for {@link FaultPlan.abortAfter}. */
  abortJobs: (() => Promise<void>) | null = null;

  constructor(readonly plan: FaultPlan = { failAt: null, mode: "throw" }) {}

  async step<T>(kind: StepKind, run: () => Promise<T>): Promise<T> {
    const n = this.#before(kind);
    if (n === 0) return run();
    const result = await this.#noting(n, run);
    if (this.plan.abortAfter === kind && this.abortJobs) {
      this.plan.abortAfter = undefined;
      await this.abortJobs();
    }
    this.#after(kind, n);
    return result;
  }

  /** The same for a synchronous step (inside a transaction, a throw rolls the transaction back). */
  stepSync<T>(kind: StepKind, run: () => T): T {
    const n = this.#before(kind);
    if (n === 0) return run();
    const result = this.#noting(n, run);
    this.#after(kind, n);
    return result;
  }

  /** Runs step `n`, noting when it throws (synchronously or through its promise). */
  #noting<T>(n: number, run: () => T): T {
    try {
      const result = run();
      if (result instanceof Promise) result.catch(() => this.threw.push(n));
      return result;
    } catch (error) {
      this.threw.push(n);
      throw error;
    }
  }

  /** Counts the step and throws when the plan breaks it before it runs. Returns its number, 0 when it is not counted. */
  #before(kind: StepKind): number {
    if (this.dead) throw new InjectedFault(`process is dead (after step ${this.triggered?.step})`);
    if (!READS.has(kind)) this.writes[kind] = (this.writes[kind] ?? 0) + 1;
    if (READS.has(kind) && !this.plan.reads) return 0;
    this.log.push(kind);
    const n = this.log.length;
    if (this.plan.kind === kind && (this.plan.times ?? 0) > 0) {
      this.plan.times = (this.plan.times ?? 0) - 1;
      this.triggered = { step: n, kind, mode: "throw" };
      throw new Error(this.plan.message ?? `injected ${kind} failure`);
    }
    if (n === this.plan.failAt && this.plan.mode === "throw") {
      this.triggered = { step: n, kind, mode: "throw" };
      throw new InjectedFault(`injected fault at step ${n} (${kind})`);
    }
    return n;
  }

  /** In "die" mode, step `n` succeeded and the process dies now. */
  #after(kind: StepKind, n: number): void {
    if (n === this.plan.failAt && this.plan.mode === "die") {
      this.triggered = { step: n, kind, mode: "die" };
      this.dead = true;
      throw new InjectedFault(`process died after step ${n} (${kind})`);
    }
  }
}

/**
 * Storage that goes through the controller. The synchronous `kv` API is passed through as it is:
 * its reads cannot fail asynchronously, and a crash around them is a crash of the steps around.
 */
export function faultyStorage(storage: DurableObjectStorage, c: FaultController): DumpStorage {
  return {
    kv: storage.kv,
    get: ((keys: string | string[]) => {
      c.reads.push(...(Array.isArray(keys) ? keys : [keys]));
      return c.step("storage.get", () => storage.get(keys as string));
    }) as DumpStorage["get"],
    list: async (options) => {
      const map = await c.step("storage.list", () => storage.list(options));
      c.reads.push(...map.keys());
      return map as never;
    },
    put: (entries) => c.step("storage.put", () => storage.put(entries)),
    delete: (keys) => c.step("storage.delete", () => storage.delete(keys)),
    getAlarm: () => c.step("storage.getAlarm", () => storage.getAlarm()),
    setAlarm: (at) => c.step("storage.setAlarm", () => storage.setAlarm(at)),
  };
}

/**
 * Transactional storage that goes through the controller: the whole transaction is a step, and so
 * is each synchronous KV read and write inside it (breaking one rolls the transaction back);
 * "die" after the transaction step means it committed and the process died right after.
 */
export function faultyTransactionalStorage(storage: DurableObjectStorage, c: FaultController): TransactionalStorage {
  return {
    ...faultyStorage(storage, c),
    transactionSync: (closure) => c.stepSync("storage.transactionSync", () => storage.transactionSync(closure)),
    kv: {
      get: ((key: string) => c.stepSync("storage.kv.get", () => storage.kv.get(key))) as SyncKvStorage["get"],
      put: (key, value) => c.stepSync("storage.kv.put", () => storage.kv.put(key, value)),
      delete: (key) => c.stepSync("storage.kv.delete", () => storage.kv.delete(key)),
      list: (options) => storage.kv.list(options),
    },
    sync: () => c.step("storage.sync", () => storage.sync()),
  };
}

/** SQL whose `exec` calls are steps (inside a restore's transaction, a broken one rolls it back). */
export function faultySql(sql: SqlStorage, c: FaultController): SqlStorage {
  return new Proxy(sql, {
    get(target, property) {
      if (property === "exec") return (query: string, ...bindings: unknown[]) => c.stepSync("sql.exec", () => target.exec(query, ...bindings));
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function faultyUpload(upload: R2MultipartUpload, c: FaultController): R2MultipartUpload {
  return {
    key: upload.key,
    uploadId: upload.uploadId,
    uploadPart: ((n: number, body: Parameters<R2MultipartUpload["uploadPart"]>[1]) =>
      c.step("r2.uploadPart", () => upload.uploadPart(n, body))) as R2MultipartUpload["uploadPart"],
    complete: (parts) => c.step("r2.complete", () => upload.complete(parts)),
    abort: () => c.step("r2.abort", () => upload.abort()),
  };
}

/** The bucket methods the engine uses, through the controller. */
export function faultyBucket(bucket: R2Bucket, c: FaultController): R2Bucket {
  const wrapped = {
    head: (key: string) => c.step("r2.head", () => bucket.head(key)),
    get: ((key: string, options?: R2GetOptions) => c.step("r2.get", () => bucket.get(key, options))) as R2Bucket["get"],
    put: ((key: string, value: Parameters<R2Bucket["put"]>[1], options?: R2PutOptions) =>
      c.step("r2.put", () => bucket.put(key, value, options))) as R2Bucket["put"],
    delete: (keys: string | string[]) => c.step("r2.delete", () => bucket.delete(keys)),
    list: (options?: R2ListOptions) => bucket.list(options),
    createMultipartUpload: async (key: string, options?: R2MultipartOptions) =>
      faultyUpload(await c.step("r2.createMultipartUpload", () => bucket.createMultipartUpload(key, options)), c),
    resumeMultipartUpload: (key: string, uploadId: string) => faultyUpload(bucket.resumeMultipartUpload(key, uploadId), c),
  };
  return wrapped as unknown as R2Bucket;
}
