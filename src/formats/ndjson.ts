import type { DumpFormatter } from "./formatter.js";
import { jsonObjectRow } from "./json-row.js";

/**
 * Newline-delimited JSON: one object per table, one JSON object per line (each line ends with
 * LF), keys in column order. What DuckDB, BigQuery and jq load directly. Values are encoded as in
 * the `json` format. A table without rows gives an empty object.
 */
export const ndjsonFormatter: DumpFormatter = {
  extension: "ndjson",
  contentType: "application/x-ndjson; charset=utf-8",
  objectPerTable: true,
  row: (table, ctx) => {
    const template = ctx.data ? jsonObjectRow(table) : null;
    return template && [...template, "\n"];
  },
};
