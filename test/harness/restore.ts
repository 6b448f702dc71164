import { spawnSync } from "node:child_process";
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import initSqlJs, { type Database, type SqlJsStatic } from "sql.js";
import { sqlite3Backend, sqlJsBackend, type SqlBackend } from "./backends.js";

/** A database restored from a dump; `dispose` removes its files. */
export interface Restored {
  backend: SqlBackend;
  dispose(): void;
}

/** A restored sqlite3 database file. */
export interface RestoredFile extends Restored {
  path: string;
  /** Runs SQL with the CLI (read-write, `-bail`), returns stdout; throws on any stderr. */
  run(sql: string): string;
}

function runSqlite3(args: string[], input: { fd: number } | string): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync("sqlite3", args, {
    input: typeof input === "string" ? input : undefined,
    stdio: [typeof input === "string" ? "pipe" : input.fd, "pipe", "pipe"],
    maxBuffer: 1 << 30,
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), status: r.status };
}

/**
 * Restores a dump with the real `sqlite3` CLI: writes it to a temp file and runs
 * `sqlite3 -bail new.db < dump.sql`. Throws (failing the test) on a non-zero exit or any stderr.
 */
export function restoreWithSqlite3(dump: Uint8Array | string): RestoredFile {
  const dir = mkdtempSync(join(tmpdir(), "durable-dump-restore-"));
  const dumpPath = join(dir, "dump.sql");
  const dbPath = join(dir, "new.db");
  writeFileSync(dumpPath, dump);
  const fd = openSync(dumpPath, "r");
  let r: ReturnType<typeof runSqlite3>;
  try {
    r = runSqlite3(["-bail", dbPath], { fd });
  } finally {
    closeSync(fd);
  }
  if (r.status !== 0 || r.stderr) {
    throw new Error(`sqlite3 restore failed (exit ${r.status}): ${r.stderr.slice(0, 4000)}\n(dump kept at ${dumpPath})`);
  }
  return {
    path: dbPath,
    backend: sqlite3Backend(dbPath),
    run(sql) {
      const x = runSqlite3(["-bail", dbPath], sql);
      if (x.status !== 0 || x.stderr) throw new Error(`sqlite3 failed (exit ${x.status}): ${x.stderr}`);
      return x.stdout;
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

let sqlJs: Promise<SqlJsStatic> | undefined;

/** A dump restored into sql.js. */
export interface RestoredSqlJs extends Restored {
  db: Database;
}

/** Restores a dump into a fresh in-memory sql.js database with `db.exec` (throws on any error). */
export async function restoreWithSqlJs(dump: Uint8Array | string): Promise<RestoredSqlJs> {
  sqlJs ??= initSqlJs();
  const SQL = await sqlJs;
  const db = new SQL.Database();
  db.exec(typeof dump === "string" ? dump : new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(dump));
  return { db, backend: sqlJsBackend(db), dispose: () => db.close() };
}
