/** What a row template is made of: the engine renders each row inside SQLite from one. */

/** How the engine turns one stored value into text, inside SQLite, exactly. */
export type ValueEncoding =
  /** A SQL literal that SQLite reads back to the same value, type and bits. */
  | "sql"
  /**
   * Like `"sql"`, for files that `wrangler d1 execute --file` imports into D1: long values are
   * written as `||` joins of literals of at most 500 bytes, text holding `BEGIN TRANSACTION` as
   * hex, and a row template rendering one SQL statement is cut into statements of at most
   * 100,000 bytes (docs/formatters.md, "The d1 dialect").
   */
  | "d1"
  /** A JSON value: exact integer digits, round-trip doubles, strings, base64 strings for blobs. */
  | "json"
  /** A CSV field (RFC 4180): empty for NULL, `""` for the empty string, base64 for blobs. */
  | "csv";

/**
 * One piece of a row template: literal text, a column's value in an encoding, or a raw SQL
 * expression (evaluated by SQLite, must yield text; the engine does not split it when large).
 */
export type RowPiece = string | { column: string; encoding: ValueEncoding } | { expr: string };

/** A piece of a row template with its column reference quoted. */
export type Piece = { kind: "text"; text: string } | { kind: "column"; ref: string; encoding: ValueEncoding } | { kind: "expr"; sql: string };
