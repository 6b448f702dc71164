import { DumpError } from "../errors.js";
import { utf8Length } from "../util/bytes.js";
import { type D1Value, d1HexPieces, d1Literal, d1Statements, d1TextPieces } from "./d1-statements.js";
import type { RowSelector } from "./row-key.js";
import type { Piece, ValueEncoding } from "./row-template.js";
import { D1_PIECE_BYTES, VALUE_SLICE_BYTES, blobFraming, encodeValueOrDefer, isSqlEncoding, realText, sqlNeedsHexText, textSlicing } from "./value-encoders.js";

/** Columns one query may return in a Durable Object (its SQLITE_MAX_COLUMN): tables have at most as many. */
export const MAX_RESULT_COLUMNS = 100;

/** Bytes one query may hold in a Durable Object (a longer one fails with SQLITE_TOOBIG). */
export const MAX_QUERY_BYTES = 100_000;

/** A column reference longer than this is named once per value, through a subquery (see {@link valueExpr}). */
const WRAP_REF_CHARS = 32;

/** Large d1 values are read in slices of this many bytes (characters for text), a multiple of the piece size. */
const D1_SLICE = 192 * D1_PIECE_BYTES;

/** What a {@link RowByValues} must leave room for in each query, and how d1 rows are cut. */
export interface RowByValuesOptions {
  /** Result columns the caller selects besides the values (a key). */
  reserveColumns: number;
  /** Bytes the caller's clauses take besides the select list (key, WHERE, ORDER BY). */
  reserveBytes: number;
  /**
   * The quoted name of the staging table when the template is one SQL statement of the `d1`
   * encoding, cut into statements D1 accepts (d1-statements.ts); null otherwise.
   */
  d1Stage: string | null;
}

/**
 * SQL rendering the value of column `ref`, or NULL when JavaScript renders it (see
 * `encodeValueOrDefer`). A long column name, repeated a dozen times by that expression, is named
 * once instead: a table of 100 columns named with 60 characters would otherwise need a query of
 * more than 100 KB.
 */
function valueExpr(ref: string, encoding: ValueEncoding): string {
  return ref.length > WRAP_REF_CHARS ? `(SELECT ${encodeValueOrDefer("v", encoding)} FROM (SELECT ${ref} AS v))` : encodeValueOrDefer(ref, encoding);
}

/**
 * Renders rows value by value: each value crosses into JavaScript rendered (or raw, for the few
 * JavaScript writes), large values in slices, and JavaScript puts the row together. The path of
 * rows too large to render in one SQLite string, of blobs that need base64, and of tables too wide
 * for one query. Values are selected in groups, each query within the platform's limits on query
 * length and result columns.
 */
export class RowByValues {
  readonly #sql: SqlStorage;
  readonly #table: string;
  readonly #pieces: readonly Piece[];
  readonly #d1Stage: string | null;
  /** The select list of each group of values; `#groups[g]` holds the indexes of their pieces. */
  readonly #lists: string[] = [];
  readonly #groups: number[][] = [];

  /** `table` is the quoted table name; `pieces` the row template. */
  constructor(sql: SqlStorage, table: string, pieces: readonly Piece[], options: RowByValuesOptions) {
    this.#sql = sql;
    this.#table = table;
    this.#pieces = pieces;
    this.#d1Stage = options.d1Stage;
    const bytes = MAX_QUERY_BYTES - options.reserveBytes;
    const columns = MAX_RESULT_COLUMNS - options.reserveColumns;
    let group: { exprs: string[]; pieces: number[]; bytes: number } = { exprs: [], pieces: [], bytes: 0 };
    const close = () => {
      this.#lists.push(group.exprs.join(", ") || "1");
      this.#groups.push(group.pieces);
    };
    pieces.forEach((p, i) => {
      if (p.kind === "text") return;
      const expr = p.kind === "expr" ? `(${p.sql})` : valueExpr(p.ref, p.encoding);
      const size = utf8Length(expr) + 2;
      if (size > bytes)
        throw new DumpError("UNSUPPORTED_TABLE", `Table ${table} has a column whose name is too long to read in a query of at most ${MAX_QUERY_BYTES} bytes.`);
      if (group.pieces.length > 0 && (group.bytes + size > bytes || group.pieces.length >= columns)) {
        close();
        group = { exprs: [], pieces: [], bytes: 0 };
      }
      group.exprs.push(expr);
      group.pieces.push(i);
      group.bytes += size;
    });
    close();
  }

  /** The select lists of the value groups, in order: query each with the same rows and pass the values to {@link assemble}. */
  get lists(): readonly string[] {
    return this.#lists;
  }

  /**
   * Puts one row's values in the slots of their pieces: `group` is the index of the list they were
   * selected with, `row` that query's answer, whose values start at column `from`.
   */
  collect(values: SqlStorageValue[], group: number, row: SqlStorageValue[], from: number): void {
    this.#groups[group]!.forEach((piece, k) => {
      values[piece] = row[from + k] ?? null;
    });
  }

  /** Renders the row `row` selects (alone), or "" when it no longer exists. */
  render(row: RowSelector): string {
    const values: SqlStorageValue[] = [];
    for (const [g, list] of this.#lists.entries()) {
      const answer = this.#sql
        .exec(`SELECT ${list} FROM ${this.#table}${row.where}`, ...row.bindings)
        .raw()
        .next().value;
      if (!answer) return "";
      this.collect(values, g, answer, 0);
    }
    return this.assemble(values, row);
  }

  /** The text of one row from its values (indexed like the template's pieces); `row` selects it, to read its large values. */
  assemble(values: readonly SqlStorageValue[], row: RowSelector): string {
    const parts: (string | D1Value)[] = [];
    let d1 = false;
    this.#pieces.forEach((p, i) => {
      const value = values[i] ?? null;
      if (p.kind === "text") parts.push(p.text);
      else if (p.kind === "expr") {
        if (typeof value === "string") parts.push(value);
      } else if (p.encoding === "d1") {
        d1 = true;
        if (typeof value === "string") parts.push({ kind: "literal", sql: value });
        else if (typeof value === "number") parts.push({ kind: "literal", sql: realText(value, "d1") });
        else parts.push(this.#largeD1(p.ref, row));
      } else if (typeof value === "string") parts.push(value);
      else if (typeof value === "number") parts.push(realText(value, p.encoding));
      else if (value instanceof ArrayBuffer) {
        const framing = blobFraming(p.encoding);
        parts.push(framing.open + framing.body(new Uint8Array(value)) + framing.close);
      } else parts.push(this.#large(p.ref, p.encoding, row));
    });
    if (d1 && this.#d1Stage !== null) return d1Statements(parts, this.#d1Stage);
    return parts.map((p) => (typeof p === "string" ? p : d1Literal(p))).join("");
  }

  /**
   * Expressions `select(v)` over one value of the row. A long column name is named once, through a
   * subquery (`SELECT <select(v)> FROM (SELECT <ref> AS v FROM …)`); a short one directly, so that a
   * row found by sorting (values-key.ts) is not sorted together with a copy of a large value: the
   * sort's record would pass SQLite's 2 MB.
   */
  #one(select: (v: string) => string, ref: string, row: RowSelector, ...params: unknown[]): SqlStorageValue[] | undefined {
    const query =
      ref.length > WRAP_REF_CHARS
        ? `SELECT ${select("v")} FROM (SELECT ${ref} AS v FROM ${this.#table}${row.where})`
        : `SELECT ${select(ref)} FROM ${this.#table}${row.where}`;
    return this.#sql
      .exec(query, ...params, ...row.bindings)
      .raw()
      .next().value;
  }

  /** Renders one large text or blob value in slices. */
  #large(ref: string, encoding: ValueEncoding, row: RowSelector): string {
    const hexCheck = (v: string) => (isSqlEncoding(encoding) ? sqlNeedsHexText(v) : `instr(${v}, char(0)) > 0`);
    const info = this.#one((v) => `typeof(${v}), octet_length(${v}), length(${v}), ${hexCheck(v)}`, ref, row);
    if (!info) return "";
    const [type, bytes, length, hasNul] = info as [string, number, number, number];
    if (type === "blob") {
      const framing = blobFraming(encoding);
      let text = framing.open;
      for (let offset = 1; offset <= bytes; offset += VALUE_SLICE_BYTES) {
        text += framing.body(new Uint8Array(this.#one((v) => `substr(${v}, ?, ?)`, ref, row, offset, VALUE_SLICE_BYTES)?.[0] as ArrayBuffer));
      }
      return text + framing.close;
    }
    const slicing = textSlicing(encoding, hasNul === 1);
    const source = (v: string) => (slicing.byBytes ? `CAST(${v} AS BLOB)` : v);
    const total = slicing.byBytes ? bytes : length;
    const decoder = slicing.escape ? new TextDecoder() : null;
    let text = slicing.open;
    for (let offset = 1; offset <= total; offset += VALUE_SLICE_BYTES) {
      const slice = this.#one((v) => slicing.slice(`substr(${source(v)}, ?1, ?2)`), ref, row, offset, VALUE_SLICE_BYTES)?.[0];
      if (decoder && slicing.escape)
        text += slicing.escape(decoder.decode(new Uint8Array(slice as ArrayBuffer), { stream: offset + VALUE_SLICE_BYTES <= total }));
      else text += slice as string;
    }
    return text + slicing.close;
  }

  /**
   * The literals of one long d1 value, read in slices: a blob, and text holding NUL or CR, as hex
   * of their bytes; other text as string literals cut between characters.
   */
  #largeD1(ref: string, row: RowSelector): D1Value {
    const info = this.#one((v) => `typeof(${v}), octet_length(${v}), length(${v}), ${sqlNeedsHexText(v)}`, ref, row);
    if (!info) return { kind: "literal", sql: "NULL" };
    const [type, bytes, length, needsHex] = info as [string, number, number, number];
    const pieces: string[] = [];
    if (type === "blob" || needsHex === 1) {
      const source = (v: string) => (type === "blob" ? v : `CAST(${v} AS BLOB)`);
      for (let offset = 1; offset <= bytes; offset += D1_SLICE) {
        pieces.push(...d1HexPieces(new Uint8Array(this.#one((v) => `substr(${source(v)}, ?, ?)`, ref, row, offset, D1_SLICE)?.[0] as ArrayBuffer)));
      }
      return { kind: type === "blob" ? "blob" : "hexText", pieces };
    }
    for (let offset = 1; offset <= length; offset += D1_SLICE)
      pieces.push(...d1TextPieces(this.#one((v) => `substr(${v}, ?, ?)`, ref, row, offset, D1_SLICE)?.[0] as string));
    return { kind: "text", pieces };
  }
}
