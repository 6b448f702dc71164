import { execFileSync } from "node:child_process";
import type { Database } from "sql.js";
import type { HostObject } from "./host-client.js";
import { decodeHostValue, doubleBits } from "./values.js";

/**
 * Somewhere SQL can be run for a snapshot: the Durable Object, a file restored by the sqlite3
 * CLI, or a sql.js database. `all` returns rows as arrays of JS values.
 */
export interface SqlBackend {
  readonly name: string;
  all(sql: string): Promise<unknown[][]>;
  /**
   * An expression yielding, for a REAL `col`, something {@link realBits} turns into the exact
   * 8 bytes of the double. Needed because `printf('%!.17g')` differs between SQLite versions
   * (3.5x prints 0.1 as "0.1", older ones "0.10000000000000001") and prints -0.0 as "0.0".
   */
  realExpr(col: string): string;
  /** Largest byte range one query may return as hex (the DO's limit is 2 MB per string). */
  readonly chunkBytes: number;
}

/** Turns what a backend's {@link SqlBackend.realExpr} returned into the double's bits as hex. */
export function realBits(v: unknown): string {
  if (typeof v === "number") return doubleBits(v);
  if (typeof v === "string" && /^[0-9A-F]{16}$/.test(v)) return v;
  throw new Error(`not a real: ${JSON.stringify(v)}`);
}

/** The Durable Object itself, through the host's `/query` route (raw doubles keep their sign). */
export function doBackend(obj: Pick<HostObject, "query">): SqlBackend {
  return {
    name: "durable-object",
    async all(sql) {
      const r = await obj.query(sql);
      return r.rows.map((row) => row.map(decodeHostValue));
    },
    realExpr: (col) => col,
    chunkBytes: 512 * 1024,
  };
}

/** A database file read by the `sqlite3` CLI (`-json`; doubles via the shell's `ieee754_to_blob`). */
export function sqlite3Backend(dbPath: string): SqlBackend {
  return {
    name: "sqlite3-cli",
    async all(sql) {
      const out = execFileSync("sqlite3", ["-bail", "-readonly", "-json", dbPath, sql], {
        maxBuffer: 1 << 30,
        stdio: ["ignore", "pipe", "pipe"],
      }).toString();
      if (!out.trim()) return [];
      return (JSON.parse(out) as Record<string, unknown>[]).map((o) => Object.values(o));
    },
    realExpr: (col) => `hex(ieee754_to_blob(${col}))`,
    chunkBytes: 64 * 1024 * 1024,
  };
}

/** A sql.js database (SQLite compiled to wasm, running in Node; no FTS5 in the stock build). */
export function sqlJsBackend(db: Database): SqlBackend {
  return {
    name: "sql.js",
    async all(sql) {
      const res = db.exec(sql);
      return res.length ? res[0]!.values : [];
    },
    realExpr: (col) => col,
    chunkBytes: 64 * 1024 * 1024,
  };
}
