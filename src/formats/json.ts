import type { DumpFormatter } from "./formatter.js";
import { jsonObjectRow } from "./json-row.js";

/**
 * One JSON document per job: an object whose keys are the table names, in export order, each
 * holding an array of row objects keyed by column name, e.g. `{"users":[{"id":1,"name":"Ann"}]}`.
 * Integers are written as exact digits (beyond 2^53 a JS consumer needs a big-integer aware
 * parser), doubles as round-trip literals (`-0.0` keeps its sign; ±Infinity is `9.0e+999` /
 * `-9.0e+999`, valid JSON grammar that JavaScript and Python read as ±Infinity), text as JSON
 * strings (NUL and control characters escaped), blobs as base64 strings and NULL as `null`.
 * Declared column types are in the job's manifest.
 */
export const jsonFormatter: DumpFormatter = {
  extension: "json",
  contentType: "application/json; charset=utf-8",
  objectPerTable: false,
  header: () => "{",
  tableHeader: (table, ctx) => `${ctx.tableIndex === 0 ? "" : ","}\n${JSON.stringify(table.name)}:[\n`,
  row: (table, ctx) => (ctx.data ? jsonObjectRow(table) : null),
  rowSeparator: ",\n",
  tableFooter: () => "\n]",
  footer: () => "\n}\n",
};
