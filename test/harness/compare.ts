import { expect } from "vitest";
import type { Snapshot } from "./snapshot.js";

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
