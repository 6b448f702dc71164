import { expect } from "vitest";
import { doBackend, type SqlBackend } from "./backends.js";
import type { HostObject } from "./host-client.js";
import { restoreWithSqlite3, restoreWithSqlJs, type Restored } from "./restore.js";
import { planTables, takeSnapshot, type Snapshot } from "./snapshot.js";

const clip = (s: string | undefined) => (s === undefined ? "<missing>" : s.length > 300 ? s.slice(0, 300) + `…(${s.length} chars)` : s);

/**
 * Asserts two snapshots are equal: schema, sqlite_sequence, and every table row by row. Reports
 * the first differing row of each table (clipped) rather than a diff of megabytes.
 */
export function expectSameSnapshot(actual: Snapshot, expected: Snapshot, label = "restored"): void {
  expect(actual.schema, `${label}: sqlite_master`).toEqual(expected.schema);
  expect(actual.sequences, `${label}: sqlite_sequence`).toEqual(expected.sequences);
  expect(Object.keys(actual.tables).sort(), `${label}: tables`).toEqual(Object.keys(expected.tables).sort());
  const problems: string[] = [];
  for (const [name, rows] of Object.entries(expected.tables)) {
    const got = actual.tables[name] ?? [];
    if (got.length !== rows.length) problems.push(`${name}: ${got.length} rows, expected ${rows.length}`);
    const i = rows.findIndex((r, k) => r !== got[k]);
    if (i >= 0) problems.push(`${name}: row ${i} differs\n  got:      ${clip(got[i])}\n  expected: ${clip(rows[i])}`);
  }
  expect(problems, `${label}: rows`).toEqual([]);
}

/**
 * Restores an SQL dump with the sqlite3 CLI and asserts that it equals the object's database:
 * schema, sqlite_sequence and every value of every table, by type and bits.
 */
export async function expectSqlite3RestoresObject(obj: HostObject, dump: Uint8Array): Promise<void> {
  await expectRestoredEqualsObject(obj, restoreWithSqlite3(dump), "sqlite3");
}

/** The same as {@link expectSqlite3RestoresObject}, restored by sql.js (no FTS5 in its stock build). */
export async function expectSqlJsRestoresObject(obj: HostObject, dump: Uint8Array): Promise<void> {
  await expectRestoredEqualsObject(obj, await restoreWithSqlJs(dump), "sql.js");
}

/** Asserts that a restored database equals the object's, then disposes of it. */
async function expectRestoredEqualsObject(obj: HostObject, db: Restored, label: string): Promise<void> {
  try {
    const src = doBackend(obj);
    const plans = await planTables(src);
    expectSameSnapshot(await takeSnapshot(db.backend, plans), await takeSnapshot(src, plans), label);
  } finally {
    db.dispose();
  }
}

/** Answers of probe queries (CORPUS_PROBES), as JSON strings to compare between databases (doubles keep their bits via the backend). */
export async function probeAnswers(db: SqlBackend, queries: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const q of queries) out.push(`${q} => ${JSON.stringify(await db.all(q), (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v))}`);
  return out;
}
