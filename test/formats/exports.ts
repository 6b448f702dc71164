import { parse } from "csv-parse/sync";
import { expect } from "vitest";
import type { DumpStatus } from "../../src/index.js";
import type { Harness } from "../harness/miniflare.js";
import type { Snapshot, TablePlan } from "../harness/snapshot.js";
import { canonicalOf, withoutRowid, type Parsed } from "./canonical.js";
import { jsonParsed, parseExactJson } from "./exact-json.js";

/** Rows of one table as parsed from an export: column names and, per row, values by column. */
export interface ParsedTable {
  columns: string[];
  rows: Parsed[][];
}

/** Parses one CSV object with csv-parse (strict RFC 4180, CRLF records), keeping whether each field was quoted. */
export function parseCsv(text: string): ParsedTable {
  const records = parse(text, {
    record_delimiter: "\r\n",
    cast: (value: string, context: { quoting: boolean }): Parsed => (context.quoting ? { kind: "quoted", text: value } : { kind: "bare", text: value }),
  }) as unknown as Parsed[][];
  const [header, ...rows] = records;
  expect(header, "CSV header row").toBeDefined();
  expect(
    header!.every((f) => f.kind === "quoted"),
    "header names are quoted",
  ).toBe(true);
  return { columns: header!.map((f) => (f as { text: string }).text), rows };
}

/** Turns row objects (keys in column order) into a {@link ParsedTable}. */
export function jsonRows(objects: unknown[]): Parsed[][] {
  return objects.map((o) => Object.values(o as Record<string, unknown>).map(jsonParsed));
}

/** Parses an NDJSON object: every line (LF-terminated) one JSON object. */
export function parseNdjson(text: string): Record<string, unknown>[] {
  if (text === "") return [];
  expect(text.endsWith("\n"), "NDJSON ends with a newline").toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => parseExactJson(line) as Record<string, unknown>);
}

/**
 * Compares a parsed table with the source snapshot row by row (source order is key order, as the
 * engine writes). Returns problems as text, empty when equal.
 */
export function compareTable(name: string, plan: TablePlan, source: Snapshot, got: ParsedTable | { rows: Parsed[][]; columns: string[] }): string[] {
  const problems: string[] = [];
  if (JSON.stringify(got.columns) !== JSON.stringify(plan.columns))
    problems.push(`${name}: columns ${JSON.stringify(got.columns)} != ${JSON.stringify(plan.columns)}`);
  const expected = withoutRowid(source.tables[name] ?? [], plan.rowid !== null);
  if (got.rows.length !== expected.length) problems.push(`${name}: ${got.rows.length} rows, expected ${expected.length}`);
  // Without a reachable rowid the snapshot orders rows by their canonical text, not by key: match them as sets.
  const byText = (rows: string[][]) => (plan.rowid === null ? [...rows].sort((a, b) => (a.join("|") < b.join("|") ? -1 : 1)) : rows);
  const typed = byText(expected).map((row, i) => ({ row, i }));
  const actualRows = byText(
    got.rows.map((values, i) => {
      const guide = plan.rowid === null ? expected.find((r) => r.every((e, k) => canonicalOf(e, values[k] ?? { kind: "null" }) === e)) : expected[i];
      return (guide ?? expected[i] ?? []).map((e, k) => canonicalOf(e, values[k] ?? { kind: "null" }));
    }),
  );
  for (const { row, i } of typed) {
    const actual = actualRows[i] ?? [];
    const k = row.findIndex((e, j) => actual[j] !== e);
    if (k >= 0) problems.push(`${name} row ${i} column ${plan.columns[k]}: got ${actual[k]?.slice(0, 200)} expected ${row[k]!.slice(0, 200)}`);
  }
  return problems;
}

/** Every 64-bit integer of the source beyond 2^53 appears in the raw JSON text as exact digits. */
export function expectExactBigIntegers(raw: string, source: Snapshot): void {
  const big = Object.values(source.tables)
    .flatMap((rows) => rows.flatMap((r) => r.split("|")))
    .filter((v) => v.startsWith("integer:") && Math.abs(Number(v.slice(8))) > 2 ** 53)
    .map((v) => v.slice(8));
  expect(big.length).toBeGreaterThan(3);
  for (const digits of new Set(big)) expect(raw, `exact ${digits}`).toMatch(new RegExp(`:${digits}[,}]`));
}

/** Reads all outputs of a completed job: key, table and bytes. */
export async function readOutputs(h: Harness, status: DumpStatus): Promise<{ key: string; table: string | null; bytes: Uint8Array }[]> {
  expect(status.error, "job error").toBeNull();
  expect(status.state).toBe("completed");
  const out = [];
  for (const o of status.outputs) {
    expect(o.complete).toBe(true);
    const bytes = await h.readObject(o.key);
    expect(bytes.byteLength, `size of ${o.key}`).toBe(o.bytes);
    out.push({ key: o.key, table: o.table ?? null, bytes });
  }
  return out;
}
