import type { Miniflare } from "miniflare";
import type { DumpStatus, StartOptions, TickResult } from "../../src/index.js";

/** Engine options accepted by the test host's `/config` route. */
export interface HostConfig {
  tickBudgetMs?: number;
  partSize?: number;
  keyPrefix?: string;
  /** Each call of the engine's clock advances it by this many ms (manual mode only). */
  clockStepMs?: number;
}

/** A SQL parameter: JSON scalars, or `{ $blob: hex }` for a BLOB. */
export type SqlParam = string | number | null | { $blob: string };

/** One statement for {@link HostObject.exec}. */
export interface Statement {
  sql: string;
  params?: SqlParam[];
}

/** A query answer: values are JSON scalars, `{ $blob: hex }` or `{ $real: "-0" | "Infinity" | ... }`. */
export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

/** An error answered by the host; `code` is the DumpError code for status 400. */
export class HostError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "HostError";
  }
}

/** Client of one `TestHost` Durable Object, driven over `mf.dispatchFetch`. */
export class HostObject {
  constructor(
    private readonly mf: Miniflare,
    /** The object's name, routed with `idFromName`. */
    readonly name: string,
  ) {}

  private async call<T>(method: "GET" | "POST", route: string, body?: unknown): Promise<T> {
    const res = await this.mf.dispatchFetch(`http://host/${encodeURIComponent(this.name)}/${route}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await res.text();
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new HostError(res.status, "BAD_RESPONSE", text.slice(0, 2000));
    }
    if (!res.ok) {
      const err = (data as { error?: { code: string; message: string; stack?: string } }).error;
      throw new HostError(res.status, err?.code ?? "HTTP_" + res.status, (err?.message ?? text) + (err?.stack ? "\n" + err.stack : ""));
    }
    return data as T;
  }

  config(cfg: HostConfig): Promise<{ ok: true }> {
    return this.call("POST", "config", cfg);
  }
  mode(mode: "manual" | "auto"): Promise<{ ok: true }> {
    return this.call("POST", "mode", { mode });
  }
  /** Runs the statements in order, in one request. */
  exec(statements: (Statement | string)[]): Promise<{ rowsWritten: number }> {
    return this.call("POST", "exec", { statements: statements.map((s) => (typeof s === "string" ? { sql: s } : s)) });
  }
  query(sql: string, params: SqlParam[] = []): Promise<QueryResult> {
    return this.call("POST", "query", { sql, params });
  }
  start(options: StartOptions = {}): Promise<DumpStatus> {
    return this.call("POST", "start", options);
  }
  tick(): Promise<TickResult> {
    return this.call("POST", "tick", {});
  }
  status(id: string): Promise<DumpStatus | null> {
    return this.call("GET", `status/${encodeURIComponent(id)}`);
  }
  abort(id: string): Promise<unknown> {
    return this.call("POST", `abort/${encodeURIComponent(id)}`, {});
  }
  list(): Promise<DumpStatus[]> {
    return this.call("GET", "list");
  }
  /** Simulates eviction: the next call builds a fresh engine over the same storage. */
  evict(): Promise<{ ok: true }> {
    return this.call("POST", "evict", {});
  }
  /** Keys of the object's KV storage starting with `prefix` (e.g. the engine's "durable-dump:"). */
  kvKeys(prefix = ""): Promise<string[]> {
    return this.call("GET", `kv/${encodeURIComponent(prefix)}`);
  }
  /** The value of a key of the object's KV storage (JSON values only), null when absent. */
  kvValue<T>(key: string): Promise<T | null> {
    return this.call("GET", `kv-value/${encodeURIComponent(key)}`);
  }
  alarmInfo(): Promise<{ alarm: number | null; alarmRuns: number; alarmErrors: string[]; mode: string }> {
    return this.call("GET", "alarm");
  }
}
