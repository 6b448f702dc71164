import { toBase64, toHex } from "../util/bytes.js";
import type { ValueEncoding } from "./row-template.js";

/**
 * Row text is built inside SQLite, whose strings are limited to about 2 MB in a Durable Object.
 * Rows whose text and blob values add up to more than this many bytes take the per-value path.
 */
export const INLINE_ROW_BYTES = 200 * 1024;

/** Values larger than this are read in slices of this many bytes (a multiple of 3 for base64). */
export const VALUE_SLICE_BYTES = 3 * 64 * 1024;

/**
 * Text and blob values of the `d1` encoding longer than this many bytes are written by JavaScript
 * as `||` joins of literals of at most this size. wrangler's SQL splitter takes time quadratic in
 * the length of a literal, and in the length of a statement for each character outside literals:
 * pieces of 500 bytes cost it least (bench/README.md, "The d1 dialect").
 */
export const D1_PIECE_BYTES = 500;

/** Whether values of this encoding are SQL literals (`sql`, `d1`). */
export function isSqlEncoding(encoding: ValueEncoding): encoding is "sql" | "d1" {
  return encoding === "sql" || encoding === "d1";
}

/** Whether values of this encoding can be rendered without JavaScript: blobs in JSON and CSV cannot (base64). */
export function rendersBlobsInSql(encoding: ValueEncoding): boolean {
  return isSqlEncoding(encoding);
}

/**
 * SQL condition: a number whose `quote()` is exact. workerd's SQLite writes doubles above ~1e118 or
 * below ~1e-83 in magnitude with digits that a correctly rounding parser (the sqlite3 CLI,
 * JavaScript, JSON readers) maps to a neighbouring double, about one value in five; within
 * [1e-60, 1e100] a sweep found none (`npm run bench -- --real-sweep`, bench/README.md). Every
 * integer but 0 is inside.
 */
function quoteIsExact(ref: string): string {
  return `(${ref} BETWEEN 1e-60 AND 1e100 OR ${ref} BETWEEN -1e100 AND -1e-60)`;
}

/**
 * Exact text of a double that SQLite does not write exactly (beyond [1e-60, 1e100] in magnitude,
 * zeros and ±Infinity apart) in `encoding`. JSON and CSV get JavaScript's shortest round-trip
 * form, which correctly rounding parsers read back exactly. SQL gets an expression instead,
 * because the parsers that read it back are not correctly rounding at these magnitudes (workerd's
 * SQLite beyond the same bounds; the sqlite3 CLI 3.40 near 1e-308): the integer significand
 * converted to REAL, then scaled by powers of two no larger than 2^62. Every step is exact: int64
 * literals below 2^63, a significand below 2^53, and scaling by powers of two, whose intermediate
 * results lie between the significand and the value itself.
 */
export function realText(value: number, encoding: ValueEncoding): string {
  if (value === Infinity || value === -Infinity) return value > 0 ? "9.0e+999" : "-9.0e+999";
  if (value === 0) return Object.is(value, -0) ? "-0.0" : "0.0";
  if (!isSqlEncoding(encoding)) {
    const text = String(value);
    return /[.e]/.test(text) ? text : `${text}.0`;
  }
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const high = view.getUint32(0);
  const biased = (high >>> 20) & 0x7ff;
  let significand = (BigInt(high & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  let exponent = biased === 0 ? -1074 : biased - 1075;
  if (biased !== 0) significand |= 1n << 52n;
  while ((significand & 1n) === 0n) {
    significand >>= 1n;
    exponent++;
  }
  let expr = `${high >>> 31 ? "-" : ""}CAST(${significand} AS REAL)`;
  for (let left = Math.abs(exponent); left > 0; left -= 62) expr += `${exponent > 0 ? "*" : "/"}${1n << BigInt(Math.min(left, 62))}`;
  return `(${expr})`;
}

/**
 * SQL condition: text a SQL string literal would not carry intact, so the SQL encoding writes it
 * as hex of its bytes. `quote()` stops at the first NUL, and the sqlite3 CLI drops a CR that
 * precedes an LF when it reads a script.
 */
export function sqlNeedsHexText(ref: string): string {
  return `(instr(${ref}, char(0)) > 0 OR instr(${ref}, char(13)) > 0)`;
}

/**
 * How the SQL encoding checks text. `"nul-and-cr"` checks both in SQL (see
 * {@link sqlNeedsHexText}). `"nul"` checks only NUL, which `quote()` would drop silently, and
 * leaves CR to the caller: a CR stays visible in the rendered text, and looking for one in the
 * rendered batch in JavaScript costs almost nothing, where a second `instr` per value costs ~5%.
 */
export type SqlTextCheck = "nul-and-cr" | "nul";

/**
 * The CASE branches after NULL, text and blobs: numbers. `quote()` writes integers and the reals
 * it writes exactly in a form SQL, JSON and CSV all read back (`9.0e+999` for ±Infinity, as
 * SQLite does); only a zero can be -0.0, whose sign `quote()` drops. What is left (reals outside
 * quote()'s exact range) is NULL: JavaScript writes it.
 */
function numberBranches(ref: string): string {
  return (
    `WHEN ${quoteIsExact(ref)} THEN quote(${ref}) ` +
    `WHEN ${ref} = 0 THEN iif(typeof(${ref}) = 'real' AND atan2(${ref}, -1) < 0, '-0.0', quote(${ref})) ` +
    `WHEN ${ref} IN (9e999, -9e999) THEN quote(${ref}) ELSE NULL END`
  );
}

/**
 * The CASE every encoding renders a value with: NULL, then text and blobs (they sort at or after
 * ''), then numbers ({@link numberBranches}).
 */
function valueCase(ref: string, nullText: string, textOrBlob: string): string {
  return `CASE WHEN ${ref} IS NULL THEN ${nullText} WHEN ${ref} >= '' THEN ${textOrBlob} ${numberBranches(ref)}`;
}

/**
 * SQL expression rendering column `ref` (an already quoted identifier) as text in `encoding`, or
 * NULL when JavaScript must render the value (see {@link encodeValueOrDefer}).
 * `blob`, for JSON and CSV, renders blobs (otherwise written as `null` in JSON, an empty field in
 * CSV): a branch of this CASE rather than a second CASE around it, which cost CSV/NDJSON exports
 * dearly (bench/README.md, "What was optimised").
 */
export function encodeValue(ref: string, encoding: ValueEncoding, blob?: string, textCheck: SqlTextCheck = "nul-and-cr"): string {
  // Branches by comparison rather than on typeof(): text and blobs sort at or after '', blobs
  // after x'': cheaper than a CASE on typeof() in every format (bench/README.md, "What was optimised").
  const textOrBlob = (text: string, otherBlob: string) => `iif(${ref} < x'', ${text}, ${blob ?? otherBlob})`;
  switch (encoding) {
    case "sql":
    case "d1": {
      let hexText = textCheck === "nul" ? `instr(${ref}, char(0)) > 0` : sqlNeedsHexText(ref);
      // wrangler deletes the first `BEGIN TRANSACTION;` of a file and refuses a file holding that
      // text twice, even in literals: d1 writes text holding it as hex.
      if (encoding === "d1") hexText = `(${hexText} OR instr(${ref}, 'BEGIN TRANSACTION') > 0)`;
      return valueCase(ref, "'NULL'", `iif(${ref} < x'' AND ${hexText}, 'CAST(X''' || hex(${ref}) || ''' AS TEXT)', quote(${ref}))`);
    }
    case "json":
      return valueCase(ref, "'null'", textOrBlob(`json_quote(${ref})`, "'null'"));
    case "csv":
      return valueCase(ref, "''", textOrBlob(`'"' || replace(${ref}, '"', '""') || '"'`, "''"));
  }
}

/** Text and blob values longer than this many bytes are rendered by JavaScript in `encoding` ({@link encodeValueOrDefer}). */
export function deferredValueBytes(encoding: ValueEncoding): number {
  return encoding === "d1" ? D1_PIECE_BYTES : VALUE_SLICE_BYTES;
}

/**
 * Like {@link encodeValue}, but yields NULL for text and blobs longer than
 * {@link deferredValueBytes}, which JavaScript renders in slices. Blobs in encodings that need
 * base64 come back as the blob itself, and reals SQLite cannot write exactly as the number itself
 * (for {@link realText}), so that one query serves the whole row. It holds one
 * {@link encodeValue}, so that a row of 100 columns stays well below the 100 KB a query may hold.
 */
export function encodeValueOrDefer(ref: string, encoding: ValueEncoding): string {
  const rawBlob = rendersBlobsInSql(encoding) ? "" : `WHEN typeof(${ref}) = 'blob' THEN ${ref} `;
  // encodeValue yields NULL only for the reals JavaScript writes.
  return (
    `CASE WHEN typeof(${ref}) IN ('text', 'blob') AND octet_length(${ref}) > ${deferredValueBytes(encoding)} THEN NULL ` +
    `${rawBlob}ELSE coalesce(${encodeValue(ref, encoding)}, ${ref}) END`
  );
}

/** SQL expression: bytes of text and blob values in the row (an upper bound's input for its text size). */
export function rowBytesExpr(refs: readonly string[]): string {
  if (refs.length === 0) return "0";
  return refs.map((r) => `iif(typeof(${r}) IN ('text','blob'), octet_length(${r}), 0)`).join(" + ");
}

/** SQL expression: true when any of the values is a blob. */
export function anyBlobExpr(refs: readonly string[]): string {
  if (refs.length === 0) return "0";
  return refs.map((r) => `typeof(${r}) = 'blob'`).join(" OR ");
}

/** Opening and closing text around a blob rendered in `encoding`, and how its bytes are written. */
export function blobFraming(encoding: ValueEncoding): { open: string; close: string; body: (b: Uint8Array) => string } {
  switch (encoding) {
    case "sql":
    case "d1":
      return { open: "X'", close: "'", body: (b) => toHex(b, "upper") };
    case "json":
      return { open: '"', close: '"', body: toBase64 };
    case "csv":
      return { open: "", close: "", body: toBase64 };
  }
}

/**
 * How a long text value is written in slices: the text around it and a SQL expression over a
 * slice `s` of it (a `substr` of the value) that renders that slice. Text with NUL bytes is
 * sliced by bytes, not characters (SQLite's `length` and `substr` stop at a NUL): in SQL it is
 * written as hex of its bytes; in JSON and CSV the byte slices come back as blobs, are decoded as
 * UTF-8 and escaped by `escape` in JavaScript.
 */
export function textSlicing(
  encoding: ValueEncoding,
  hasNul: boolean,
): { open: string; close: string; slice: (s: string) => string; byBytes: boolean; escape?: (text: string) => string } {
  if (hasNul && encoding === "json") return { open: '"', close: '"', slice: (s) => s, byBytes: true, escape: (t) => JSON.stringify(t).slice(1, -1) };
  if (hasNul && encoding === "csv") return { open: '"', close: '"', slice: (s) => s, byBytes: true, escape: (t) => t.replaceAll('"', '""') };
  switch (encoding) {
    case "sql":
    case "d1":
      return hasNul
        ? { open: "CAST(X'", close: "' AS TEXT)", slice: (s) => `hex(${s})`, byBytes: true }
        : { open: "'", close: "'", slice: (s) => `replace(${s}, '''', '''''')`, byBytes: false };
    case "json":
      // json_quote adds the surrounding quotes to every slice; they are cut off.
      return { open: '"', close: '"', slice: (s) => `substr(json_quote(${s}), 2, length(json_quote(${s})) - 2)`, byBytes: false };
    case "csv":
      return { open: '"', close: '"', slice: (s) => `replace(${s}, '"', '""')`, byBytes: false };
  }
}
