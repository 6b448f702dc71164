import { freeArrayBuffer } from "../util/bytes.js";
import { quoteIdentifier, quoteString } from "../util/sql-text.js";
import { BLOB_MARK, MarkedBlobExpander } from "./marked-blobs.js";
import { renderRowByValues } from "./row-by-values.js";
import { type KeyPart, keyCondition, keyFromRow, keySelect } from "./row-key.js";
import type { Piece, RowPiece } from "./row-template.js";
import type { TableInfo } from "./schema-types.js";
import { INLINE_ROW_BYTES, type SqlTextCheck, anyBlobExpr, blobFraming, encodeValue, rendersBlobsInSql, rowBytesExpr } from "./value-encoders.js";

/**
 * Characters a batch read row by row (as text, see {@link TableReader.read}) holds at most. V8
 * allocates a string above 128 KiB as a large object, which only a full collection frees, so
 * larger batches made the heap grow with the export; below it, a batch's text dies young
 * (bench/README.md, "What was optimised").
 */
const MAX_TEXT_BATCH_CHARS = 96 * 1024;

/** What one call to {@link TableReader.read} produced. */
export interface Batch {
  /**
   * Rendered rows, each preceded by the separator unless it is the table's first row: UTF-8 bytes
   * when SQLite concatenated the batch (valid until the next `read()`), else text.
   */
  text: string | Uint8Array;
  rows: number;
  /** Key of the last row read; pass it back to continue after it. */
  last: KeyPart[] | null;
  /** True when the table has no rows after `last`. */
  done: boolean;
}

/**
 * Reads a table in key order, in batches resumed by key (never by OFFSET), and renders each row
 * inside SQLite from a formatter's row template. Rows too large for one SQLite string, and rows
 * with blobs that need base64, are rendered value by value, large values in slices.
 */
export class TableReader {
  readonly #sql: SqlStorage;
  readonly #table: string;
  readonly #keys: string[];
  readonly #pieces: Piece[];
  readonly #separator: string;
  /** The row's line, or NULL when the row must be rendered in JavaScript (too large, or blobs needing it). */
  readonly #deferredLineExpr: string;
  /**
   * The row's line for {@link #readConcatenated}, without the row-size guard of
   * {@link #deferredLineExpr} (~12% of the render): a row too large for SQLite fails the query
   * (SQLITE_TOOBIG), and the batch is then read by {@link #readRows}, which keeps the guard.
   * SQL-encoded text is checked for NUL only; a batch that shows a CR is read again with
   * {@link #carefulConcatLineExpr}, which then serves the rest of the table.
   */
  #concatLineExpr: string;
  /** {@link #concatLineExpr} checking SQL-encoded text for CR as well; null when no value is SQL-encoded. */
  #carefulConcatLineExpr: string | null;
  /** The query of {@link #readConcatenated} by its WHERE clause, for {@link #concatLineExpr} as it is. */
  readonly #concatQueries = new Map<string, string>();
  /**
   * SQL counting the row's blobs that the line carries as marked hex; null when it carries none, or
   * when the marks need no counting because no text can hold one (see the constructor).
   */
  readonly #blobCountExpr: string | null;
  /** Turns the line's marked blobs into their framed base64; null when the line carries none. */
  readonly #blobExpander: MarkedBlobExpander | null;
  /** The buffer of the last concatenated batch, freed at the next read (see {@link Batch.text}). */
  #lastBuffer: ArrayBuffer | null = null;
  /** Whether batches may be concatenated inside SQLite (rowid tables; off after 8 batches it could not render). */
  #concat: boolean;
  #concatFallbacks = 0;
  /** Characters (bytes, for a concatenated batch) per row seen in the last batch, to size the next one. */
  #charsPerRow = 0;

  constructor(sql: SqlStorage, table: TableInfo, keyColumns: string[], template: RowPiece[], separator: string) {
    this.#sql = sql;
    this.#table = quoteIdentifier(table.name);
    this.#keys = keyColumns;
    this.#separator = separator;
    this.#pieces = template.map(
      (p): Piece =>
        typeof p === "string"
          ? { kind: "text", text: p }
          : "column" in p
            ? { kind: "column", ref: quoteIdentifier(p.column), encoding: p.encoding }
            : { kind: "expr", sql: p.expr },
    );
    // The INTEGER PRIMARY KEY that aliases the rowid always holds an integer: it is rendered without
    // the per-type CASE, and never counts in the row's size or blobs (bench/README.md, "What was optimised").
    const intKey = table.kind === "table" && !table.withoutRowid && table.hiddenRowid === null ? keyColumns[0] : undefined;
    const refs = table.columns.map((c) => quoteIdentifier(c.name)).filter((r) => r !== intKey);
    // Blobs that need base64 (JSON, CSV) come out of SQLite as hex between two U+0001 marks and are
    // turned into base64 in JavaScript (see #expandBlobs), when every such column uses one encoding.
    const jsBlobs = this.#pieces.filter((p): p is Extract<Piece, { kind: "column" }> => p.kind === "column" && !rendersBlobsInSql(p.encoding));
    const markBlobs = jsBlobs.length > 0 && jsBlobs.every((p) => p.encoding === jsBlobs[0]!.encoding);
    const value = (p: Extract<Piece, { kind: "column" }>, textCheck: SqlTextCheck) =>
      p.ref === intKey
        ? `CAST(${p.ref} AS TEXT)`
        : `(${encodeValue(p.ref, p.encoding, markBlobs && !rendersBlobsInSql(p.encoding) ? `char(1) || hex(${p.ref}) || char(1)` : undefined, textCheck)})`;
    const lineFor = (textCheck: SqlTextCheck) =>
      this.#pieces.map((p) => (p.kind === "text" ? quoteString(p.text) : p.kind === "column" ? value(p, textCheck) : `(${p.sql})`)).join(" || ") || "''";
    // In JSON, text cannot hold a mark (json_quote writes U+0001 as \u0001): when the rest of the
    // template and the row separator are literal text without one, every mark is a blob's, and
    // counting blobs per row in SQL (a typeof per column, ~5% of NDJSON) is not needed.
    const marksAreBlobs =
      markBlobs &&
      !separator.includes(BLOB_MARK_CHAR) &&
      this.#pieces.every((p) => (p.kind === "text" ? !p.text.includes(BLOB_MARK_CHAR) : p.kind === "column" && p.encoding === "json"));
    this.#blobCountExpr =
      markBlobs && !marksAreBlobs
        ? jsBlobs
            .filter((p) => p.ref !== intKey)
            .map((p) => `((${p.ref} >= x'') IS TRUE)`)
            .join(" + ") || "0"
        : null;
    const framing = markBlobs ? blobFraming(jsBlobs[0]!.encoding) : null;
    this.#blobExpander = framing ? new MarkedBlobExpander(framing.open, framing.close) : null;
    const needsJsForBlobs = jsBlobs.length > 0 && !markBlobs;
    const noJsBlobs = needsJsForBlobs ? `NOT (${anyBlobExpr(refs)})` : null;
    const line = lineFor("nul-and-cr");
    this.#deferredLineExpr = `CASE WHEN (${rowBytesExpr(refs)}) <= ${INLINE_ROW_BYTES}${noJsBlobs ? ` AND ${noJsBlobs}` : ""} THEN ${line} END`;
    const concatLine = (l: string) => (noJsBlobs ? `CASE WHEN ${noJsBlobs} THEN ${l} END` : l);
    const sqlEncoded = this.#pieces.some((p) => p.kind === "column" && p.encoding === "sql" && p.ref !== intKey);
    this.#concatLineExpr = concatLine(sqlEncoded ? lineFor("nul") : line);
    this.#carefulConcatLineExpr = sqlEncoded ? concatLine(line) : null;
    this.#concat = !table.withoutRowid && keyColumns.length === 1;
  }

  /**
   * Reads up to `maxRows` rows after `after` (from the start when null), stopping early once the
   * batch reaches `maxBytes` (or {@link MAX_TEXT_BATCH_CHARS} characters when it is read row by
   * row, as text). `first` says whether the next row is the table's first.
   */
  read(after: KeyPart[] | null, maxRows: number, maxBytes: number, first: boolean): Batch {
    this.#freeLastBuffer();
    const batch =
      (this.#concat && this.#charsPerRow > 0 && this.#readConcatenated(after, maxRows, maxBytes, first)) ||
      this.#readRows(after, maxRows, Math.min(maxBytes, MAX_TEXT_BATCH_CHARS), first);
    if (batch.rows > 0) this.#charsPerRow = Math.max(1, batch.text.length / batch.rows);
    return batch;
  }

  /**
   * The batch concatenated by SQLite (`group_concat`), so that one value crosses into JavaScript
   * instead of one per row, which saves a good part of the render. It crosses as UTF-8 bytes (a
   * BLOB), freed as soon as they are written: as strings, the batches filled V8's young generation
   * to its maximum (both in bench/README.md, "What was optimised"). Rowid tables only
   * (the last key is `max(rowid)`). Null when a row needs rendering in JavaScript, or on any SQL
   * error (a row or the batch longer than SQLite's string limit): {@link #readRows} then reads it.
   * After 8 such batches the table is read by {@link #readRows} only.
   */
  #readConcatenated(after: KeyPart[] | null, maxRows: number, maxBytes: number, first: boolean): Batch | null {
    const key = this.#keys[0]!;
    const limit = Math.max(1, Math.min(maxRows, Math.floor(maxBytes / this.#charsPerRow)));
    const { where, bindings } = keyCondition(this.#keys, after, ">");
    const blobSum = this.#blobCountExpr ?? "0";
    // group_concat takes the rows in the order the subquery yields them, which is key order (its
    // ORDER BY is the rowid scan's own). An ORDER BY inside group_concat would sort every batch
    // again, a large part of the render. The format tests compare rows in key order. Built once
    // per WHERE clause (there are two), not per batch, which allocated in V8's heap per batch
    // (bench/README.md, "What was optimised").
    let query = this.#concatQueries.get(where);
    if (query === undefined) {
      query =
        `SELECT count(*), count(line), CAST(max(k) AS TEXT), sum(b), CAST(? || group_concat(line, ${quoteString(this.#separator)}) AS BLOB) ` +
        `FROM (SELECT ${key} AS k, ${blobSum} AS b, ${this.#concatLineExpr} AS line FROM ${this.#table}${where} ORDER BY ${key} LIMIT ?)`;
      this.#concatQueries.set(where, query);
    }
    let row: SqlStorageValue[] | undefined;
    try {
      row = Array.from(this.#sql.exec(query, first ? "" : this.#separator, ...bindings, limit).raw())[0];
    } catch {
      return this.#fallBack();
    }
    if (!row) return null;
    const [count, lines, last, blobCount, buffer] = row as [number, number, string | null, number | null, ArrayBuffer | null];
    if (count === 0) return { text: "", rows: 0, last: after, done: true };
    if (buffer === null || lines !== count) return this.#fallBack();
    this.#lastBuffer = buffer;
    let bytes: Uint8Array = new Uint8Array(buffer);
    if (this.#carefulConcatLineExpr !== null && bytes.includes(CR)) {
      this.#concatLineExpr = this.#carefulConcatLineExpr;
      this.#concatQueries.clear();
      this.#carefulConcatLineExpr = null;
      this.#freeLastBuffer();
      return this.#readConcatenated(after, maxRows, maxBytes, first);
    }
    const blobs = this.#blobCountExpr === null ? null : (blobCount ?? 0);
    if (this.#hasBlobs(bytes, blobs)) {
      const expanded = this.#blobExpander!.expand(bytes, blobs);
      if (expanded === null) return this.#fallBack();
      bytes = expanded;
    }
    return { text: bytes, rows: count, last: [{ t: "i", v: last! }], done: count < limit };
  }

  /**
   * Frees the buffers this reader keeps from batch to batch (the last concatenated batch, the blob
   * expander's output) now rather than at a later garbage collection: a reader lives for a whole
   * tick, long enough for V8 to move it to the old generation, which is collected rarely: buffers
   * piled up tick after tick (bench/README.md, "What was optimised"). The last batch is invalid after this; a later read allocates
   * anew.
   */
  release(): void {
    this.#freeLastBuffer();
    this.#blobExpander?.release();
  }

  /** Frees the last concatenated batch's buffer now, not at a later garbage collection. */
  #freeLastBuffer(): void {
    if (this.#lastBuffer) freeArrayBuffer(this.#lastBuffer);
    this.#lastBuffer = null;
  }

  /** Notes a batch that {@link #readConcatenated} could not render; returns null for {@link read}. */
  #fallBack(): null {
    this.#freeLastBuffer();
    if (++this.#concatFallbacks >= 8) this.#concat = false;
    return null;
  }

  #readRows(after: KeyPart[] | null, maxRows: number, maxBytes: number, first: boolean): Batch {
    const { where, bindings } = keyCondition(this.#keys, after, ">");
    const blobCount = this.#blobCountExpr === null ? "" : `${this.#blobCountExpr}, `;
    const query = `SELECT ${keySelect(this.#keys)}, ${blobCount}${this.#deferredLineExpr} FROM ${this.#table}${where} ORDER BY ${this.#keys.join(", ")} LIMIT ?`;
    // Rows SQLite cannot render (large, or with blobs that need base64) do not end the batch: their
    // keys are noted in order and they are rendered value by value once the cursor is done.
    let text = "";
    let chars = 0;
    let rows = 0;
    let lastRow: SqlStorageValue[] | null = null;
    let slow: { prefix: string; key: KeyPart[]; index: number }[] | null = null;
    // The LIMIT follows the row size seen so far, so that few rows are read past maxBytes: those are
    // read and dropped, because a cursor left unfinished keeps its statement active, and an active
    // statement makes DDL on the connection fail (DROP TABLE: SQLITE_LOCKED).
    const limit = this.#charsPerRow > 0 ? Math.max(1, Math.min(maxRows, Math.ceil(maxBytes / this.#charsPerRow))) : maxRows;
    let full = false;
    for (const row of this.#sql.exec(query, ...bindings, limit).raw()) {
      if (full) continue;
      let line = row[row.length - 1];
      if (typeof line === "string") {
        const blobs = this.#blobCountExpr === null ? null : (row[row.length - 2] as number);
        if (this.#hasBlobs(line, blobs)) line = this.#expandBlobs(line, blobs);
      }
      const separator = first && rows === 0 ? "" : this.#separator;
      lastRow = row;
      if (typeof line !== "string") {
        slow ??= [];
        slow.push({ prefix: text + separator, key: keyFromRow(row, this.#keys.length), index: rows });
        text = "";
        rows++;
        continue;
      }
      text += separator + line;
      chars += separator.length + line.length;
      rows++;
      full = chars >= maxBytes;
    }
    const last = lastRow === null ? after : keyFromRow(lastRow, this.#keys.length);
    if (slow === null) return { text, rows, last, done: rows < limit && !full };
    let out = "";
    for (const s of slow) {
      out += s.prefix + renderRowByValues(this.#sql, this.#table, this.#pieces, keyCondition(this.#keys, s.key, "="));
      // Large rows end the batch at once, so that a batch stays about maxBytes long.
      if (out.length >= maxBytes) return { text: out, rows: s.index + 1, last: s.key, done: false };
    }
    out += text;
    return { text: out, rows, last, done: rows < limit && !full && out.length < maxBytes };
  }

  /** Whether a rendered line or batch carries marked blobs; `count` is their number when SQL counted them. */
  #hasBlobs(text: string | Uint8Array, count: number | null): boolean {
    if (this.#blobExpander === null) return false;
    if (count !== null) return count > 0;
    return typeof text === "string" ? text.includes(BLOB_MARK_CHAR) : text.includes(BLOB_MARK);
  }

  /**
   * Replaces the marked hex blobs of a rendered line by their framed base64. Null (render the row
   * value by value) when the line holds another mark than the `count` blobs' (text may contain
   * U+0001 too), or an odd number of marks when they were not counted.
   */
  #expandBlobs(line: string, count: number | null): string | null {
    const expanded = this.#blobExpander!.expand(ENCODER.encode(line), count);
    return expanded === null ? null : DECODER.decode(expanded);
  }
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const CR = 0x0d;
const BLOB_MARK_CHAR = String.fromCharCode(BLOB_MARK);
