import { freeArrayBuffer, utf8Length } from "../util/bytes.js";
import { quoteIdentifier, quoteString } from "../util/sql-text.js";
import { BLOB_MARK, BLOB_MARK_CHAR, MarkedBlobExpander } from "./marked-blobs.js";
import { MAX_QUERY_BYTES, RowByValues } from "./row-by-values.js";
import { type Batch, type KeyPart, type KeyPlan, KeyRun, type RowSelector } from "./row-key.js";
import { rowLines } from "./row-lines.js";
import type { Piece, RowPiece } from "./row-template.js";
import type { TableInfo, TableKey } from "./schema-types.js";
import { WideBatchReader } from "./wide-batch.js";

/**
 * Characters a batch read row by row (as text, see {@link TableReader.read}) holds at most. V8
 * allocates a string above 128 KiB as a large object, which only a full collection frees, so
 * larger batches made the heap grow with the export; below it, a batch's text dies young
 * (bench/README.md, "What was optimised").
 */
const MAX_TEXT_BATCH_CHARS = 96 * 1024;

/** How a {@link TableReader} renders rows besides its template. */
export interface TableReaderOptions {
  /**
   * For a template of the `d1` encoding rendering one SQL statement: the quoted name of the table
   * in which rows too long for one D1 statement are staged (see d1-statements.ts).
   */
  d1Stage: string | null;
}

/**
 * Reads a table in key order, in batches resumed by key (never by OFFSET), and renders each row
 * inside SQLite from a formatter's row template. Rows too large for one SQLite string, and rows
 * with blobs that need base64, are rendered value by value, large values in slices. A table whose
 * row query would pass the 100 KB a query may hold (100 columns with long names) is read value by
 * value throughout ({@link WideBatchReader}).
 */
export class TableReader {
  readonly #sql: SqlStorage;
  readonly #table: string;
  readonly #key: KeyPlan;
  /** The rowid, when batches may be concatenated inside SQLite (see TableKey.rowid). */
  readonly #rowid: string | null;
  readonly #pieces: Piece[];
  readonly #byValues: RowByValues;
  /** Reads every batch when the table is too wide for {@link #readRows}; null otherwise. */
  readonly #wide: WideBatchReader | null;
  readonly #separator: string;
  /** The row's line expressions, see RowLines: `deferred` for {@link #readRows}. */
  readonly #deferredLineExpr: string;
  /** RowLines' `concat`, for {@link #readConcatenated}; a batch that shows a CR switches to {@link #carefulConcatLineExpr}. */
  #concatLineExpr: string;
  #carefulConcatLineExpr: string | null;
  /** The query of {@link #readConcatenated} by its WHERE clause, for {@link #concatLineExpr} as it is. */
  readonly #concatQueries = new Map<string, string>();
  /** SQL counting the row's marked blobs (RowLines' `blobCount`). */
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

  /**
   * @throws {DumpError} `UNSUPPORTED_TABLE` when a column's name is too long for any query (about
   * 100 KB), or the key of a table whose rowid no name reaches leaves no room for its values.
   */
  constructor(sql: SqlStorage, table: TableInfo, key: TableKey, template: RowPiece[], separator: string, options: TableReaderOptions) {
    this.#sql = sql;
    this.#table = quoteIdentifier(table.name);
    this.#key = key.plan;
    this.#separator = separator;
    this.#pieces = template.map(
      (p): Piece =>
        typeof p === "string"
          ? { kind: "text", text: p }
          : "column" in p
            ? { kind: "column", ref: quoteIdentifier(p.column), encoding: p.encoding }
            : { kind: "expr", sql: p.expr },
    );
    const lines = rowLines(table, key, this.#pieces, separator, options.d1Stage !== null);
    this.#deferredLineExpr = lines.deferred;
    this.#concatLineExpr = lines.concat;
    this.#carefulConcatLineExpr = lines.carefulConcat;
    this.#blobCountExpr = lines.blobCount;
    this.#blobExpander = lines.blobFraming ? new MarkedBlobExpander(lines.blobFraming.open, lines.blobFraming.close) : null;
    this.#rowid = key.rowid;
    // The longest query this reader would send: past the limit, the table is read value by value.
    const longest = Math.max(
      utf8Length(this.#rowsQuery("", this.#deferredLineExpr, 0)) + this.#key.whereBytes,
      this.#rowid === null ? 0 : utf8Length(this.#concatQuery(` WHERE ${this.#rowid} > CAST(? AS INTEGER)`)),
    );
    const wide = longest > MAX_QUERY_BYTES;
    this.#concat = this.#rowid !== null && !wide;
    // Room for the key and clauses around the values: those of a wide batch, the larger.
    const frame = `SELECT ${this.#key.select},  FROM ${this.#table} ORDER BY ${this.#key.order} LIMIT ? OFFSET ?`;
    this.#byValues = new RowByValues(sql, this.#table, this.#pieces, {
      reserveColumns: wide ? this.#key.width : 0,
      reserveBytes: utf8Length(frame) + this.#key.whereBytes,
      d1Stage: options.d1Stage,
    });
    this.#wide = wide ? new WideBatchReader(sql, this.#table, this.#key, this.#byValues, separator) : null;
  }

  /**
   * Reads up to `maxRows` rows after `after` (from the start when null), stopping early once the
   * batch reaches `maxBytes` (or {@link MAX_TEXT_BATCH_CHARS} characters when it is read row by
   * row, as text). `first` says whether the next row is the table's first.
   */
  read(after: KeyPart[] | null, skip: number, maxRows: number, maxBytes: number, first: boolean): Batch {
    this.#freeLastBuffer();
    const textBytes = Math.min(maxBytes, MAX_TEXT_BATCH_CHARS);
    const batch = this.#wide
      ? this.#wide.read(after, skip, this.#rowLimit(maxRows, textBytes), textBytes, first)
      : (this.#concat && this.#charsPerRow > 0 && this.#readConcatenated(after, maxRows, maxBytes, first)) ||
        this.#readRows(after, skip, maxRows, textBytes, first);
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
    const limit = Math.max(1, Math.min(maxRows, Math.floor(maxBytes / this.#charsPerRow)));
    const { where, bindings } = this.#key.after(after, 0);
    // Built once per WHERE clause (there are two), not per batch (inspector sampling profile, 5M
    // rows CSV: 6.4 → 1.3 MiB allocated in V8's heap by this method).
    let query = this.#concatQueries.get(where);
    if (query === undefined) {
      query = this.#concatQuery(where);
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
    if (count === 0) return { text: "", rows: 0, last: after, skip: 0, done: true };
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
    return { text: bytes, rows: count, last: [{ t: "i", v: last! }], skip: 0, done: count < limit };
  }

  /**
   * The query of {@link #readConcatenated}. group_concat takes the rows in the order the subquery
   * yields them, which is key order (its ORDER BY is the rowid scan's own). An ORDER BY inside
   * group_concat would sort every batch again: ~25% of the render (bench/README.md). The format
   * tests compare rows in key order.
   */
  #concatQuery(where: string): string {
    const key = this.#rowid!;
    return (
      `SELECT count(*), count(line), CAST(max(k) AS TEXT), sum(b), CAST(? || group_concat(line, ${quoteString(this.#separator)}) AS BLOB) ` +
      `FROM (SELECT ${key} AS k, ${this.#blobCountExpr ?? "0"} AS b, ${this.#concatLineExpr} AS line FROM ${this.#table}${where} ORDER BY ${key} LIMIT ?)`
    );
  }

  /** The query of {@link #readRows}: the key, the blob count if any, and `line` (none when empty), in key order. */
  #rowsQuery(where: string, line: string, offset: number): string {
    const columns = [this.#key.select, ...(this.#blobCountExpr === null ? [] : [this.#blobCountExpr]), ...(line ? [line] : [])];
    return `SELECT ${columns.join(", ")} FROM ${this.#table}${where} ORDER BY ${this.#key.order} LIMIT ?${offset > 0 ? " OFFSET ?" : ""}`;
  }

  /**
   * The LIMIT of a batch read row by row: it follows the row size seen so far, so that few rows are
   * read past `maxBytes`. Those are read and dropped, because a cursor left unfinished keeps its
   * statement active, and an active statement makes DDL on the connection fail (DROP TABLE:
   * SQLITE_LOCKED).
   */
  #rowLimit(maxRows: number, maxBytes: number): number {
    return this.#charsPerRow > 0 ? Math.max(1, Math.min(maxRows, Math.ceil(maxBytes / this.#charsPerRow))) : maxRows;
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

  #readRows(after: KeyPart[] | null, skip: number, maxRows: number, maxBytes: number, first: boolean): Batch {
    const { where, bindings, offset } = this.#key.after(after, skip);
    const limit = this.#rowLimit(maxRows, maxBytes);
    const query = this.#rowsQuery(where, this.#deferredLineExpr, offset);
    // Rows SQLite cannot render (large, or with blobs that need base64) do not end the batch: their
    // keys are noted in order and they are rendered value by value once the cursor is done.
    let text = "";
    let chars = 0;
    let rows = 0;
    const run = new KeyRun(this.#key, after, skip);
    let slow: { prefix: string; row: RowSelector; key: KeyPart[]; skip: number; index: number }[] | null = null;
    let full = false;
    for (const row of this.#sql.exec(query, ...bindings, limit, ...(offset > 0 ? [offset] : [])).raw()) {
      if (full) continue;
      let line = row[row.length - 1];
      if (typeof line === "string") {
        const blobs = this.#blobCountExpr === null ? null : (row[row.length - 2] as number);
        if (this.#hasBlobs(line, blobs)) line = this.#expandBlobs(line, blobs);
      }
      const separator = first && rows === 0 ? "" : this.#separator;
      run.next(row);
      if (typeof line !== "string") {
        slow ??= [];
        slow.push({ prefix: text + separator, row: run.selector(), key: run.key!, skip: run.skip, index: rows });
        text = "";
        rows++;
        continue;
      }
      text += separator + line;
      chars += separator.length + line.length;
      rows++;
      full = chars >= maxBytes;
    }
    if (slow === null) return { text, rows, last: run.key, skip: run.skip, done: rows < limit && !full };
    let out = "";
    for (const s of slow) {
      out += s.prefix + this.#byValues.render(s.row);
      // Large rows end the batch at once, so that a batch stays about maxBytes long.
      if (out.length >= maxBytes) return { text: out, rows: s.index + 1, last: s.key, skip: s.skip, done: false };
    }
    out += text;
    return { text: out, rows, last: run.key, skip: run.skip, done: rows < limit && !full && out.length < maxBytes };
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
