/**
 * How a row of the `d1` encoding becomes SQL that `wrangler d1 execute --file` imports exactly:
 * long values as `||` joins of short literals, and a row whose statement would pass D1's
 * 100,000 bytes built up in a staging table first (docs/formatters.md, "The d1 dialect").
 */
import { DumpError } from "../errors.js";
import { toHex, utf8Length } from "../util/bytes.js";
import type { Piece } from "./row-template.js";
import { D1_PIECE_BYTES } from "./value-encoders.js";

/** D1 refuses a statement longer than this many bytes (`statement too long: SQLITE_TOOBIG`). */
export const D1_STATEMENT_BYTES = 100_000;

/**
 * A value of a d1 row: a literal SQLite rendered (at most {@link D1_PIECE_BYTES} of data), or the
 * literals of a long value, each of at most {@link D1_PIECE_BYTES} of data: text (see
 * {@link d1TextPieces}), or hex (`X'…'`) of text holding NUL or CR, or of a blob.
 */
export type D1Value = { kind: "literal"; sql: string } | { kind: "text" | "hexText" | "blob"; pieces: string[] };

/**
 * Text that wrangler's file import reads as a transaction wherever it is, even in a literal: it
 * deletes the first `BEGIN TRANSACTION;` of a file and refuses a file that holds the text twice.
 * Text holding it is written as hex, which cannot.
 */
export const TRANSACTION_TEXT = "BEGIN TRANSACTION";

const ENCODER = new TextEncoder();

/** UTF-8 length of the code point at `i` of `text` (4 for a surrogate pair, which takes two units). */
function codePointBytes(text: string, i: number): number {
  const unit = text.charCodeAt(i);
  if (unit < 0x80) return 1;
  if (unit < 0x800) return 2;
  return unit >= 0xd800 && unit <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 4 : 3;
}

/**
 * Text as literals of at most {@link D1_PIECE_BYTES} bytes of UTF-8 each, cut between code points:
 * string literals, or `CAST(X'…' AS TEXT)` for a piece holding {@link TRANSACTION_TEXT}.
 */
export function d1TextPieces(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const size = codePointBytes(text, i);
    if (bytes + size > D1_PIECE_BYTES) {
      pieces.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
    i += size === 4 ? 2 : 1;
  }
  if (start < text.length || pieces.length === 0) pieces.push(text.slice(start));
  return pieces.map((p) => (p.includes(TRANSACTION_TEXT) ? `CAST(X'${toHex(ENCODER.encode(p), "upper")}' AS TEXT)` : `'${p.replaceAll("'", "''")}'`));
}

/** Bytes as hex literals (`X'…'`) of at most {@link D1_PIECE_BYTES} bytes each. */
export function d1HexPieces(bytes: Uint8Array): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < bytes.length || pieces.length === 0; i += D1_PIECE_BYTES) pieces.push(`X'${toHex(bytes.subarray(i, i + D1_PIECE_BYTES), "upper")}'`);
  return pieces;
}

/**
 * Literals joined with `||` as a balanced tree, `('a'||'b')||('c'||'d')`: D1 refuses an expression
 * nested more than 100 deep, which a chain of 100 pieces is.
 */
export function joinPieces(pieces: readonly string[], from = 0, to = pieces.length): string {
  if (to - from === 1) return pieces[from]!;
  const half = (from + to) >> 1;
  const side = (a: number, b: number) => (b - a === 1 ? pieces[a]! : `(${joinPieces(pieces, a, b)})`);
  return `${side(from, half)}||${side(half, to)}`;
}

/**
 * The SQL of a value: the join of its pieces, cast back to what it was (`X'01' || X'02'` is text:
 * a blob is cast back to BLOB, text given as hex to TEXT).
 */
export function d1Literal(value: D1Value): string {
  if (value.kind === "literal") return value.sql;
  if (value.kind === "text" || value.pieces.length === 1) return value.kind === "hexText" ? `CAST(${value.pieces[0]} AS TEXT)` : joinPieces(value.pieces);
  return `CAST(${joinPieces(value.pieces)} AS ${value.kind === "blob" ? "BLOB" : "TEXT"})`;
}

/**
 * The statements of one d1 row, given as the text of its statement and its values in order. A
 * statement of at most {@link D1_STATEMENT_BYTES} is written as it is. A longer one is preceded
 * by statements building its largest values in the table `stage` (created and dropped around the
 * row), each of at most that size, and refers to them as `(SELECT v FROM stage WHERE k = n)`. The
 * row's table never holds a partial value, so its constraints, generated columns and affinity
 * see only whole values, whatever its key.
 *
 * @throws {DumpError} `UNSUPPORTED_SCHEMA` when even the statement with every value staged is too
 * long (column names of about 100 KB; refused by `start()` before).
 */
export function d1Statements(parts: readonly (string | D1Value)[], stage: string): string {
  const sql = parts.map((p) => (typeof p === "string" ? p : d1Literal(p)));
  const sizes = sql.map(utf8Length);
  let size = sizes.reduce((a, b) => a + b, 0);
  if (size <= D1_STATEMENT_BYTES) return sql.join("");
  const largest = parts
    .map((p, i) => ({ p, i }))
    .filter((x) => typeof x.p !== "string")
    .sort((a, b) => sizes[b.i]! - sizes[a.i]! || a.i - b.i);
  let out = `CREATE TABLE ${stage}(k INTEGER PRIMARY KEY, v);\n`;
  let k = 0;
  for (const { p, i } of largest) {
    if (size <= D1_STATEMENT_BYTES) break;
    k++;
    out += stageValue(p as D1Value, k, stage);
    sql[i] = `(SELECT v FROM ${stage} WHERE k = ${k})`;
    size += utf8Length(sql[i]!) - sizes[i]!;
  }
  if (size > D1_STATEMENT_BYTES) {
    throw new DumpError("UNSUPPORTED_SCHEMA", `A row statement would take ${size} bytes even with its values staged; D1 takes at most ${D1_STATEMENT_BYTES}.`);
  }
  return `${out}${sql.join("")}DROP TABLE ${stage};\n`;
}

/** Statements storing `value` as row `k` of the staging table, each of at most {@link D1_STATEMENT_BYTES}. */
function stageValue(value: D1Value, k: number, stage: string): string {
  const insert = `INSERT INTO ${stage} VALUES(${k}, `;
  if (value.kind === "literal") return `${insert}${value.sql});\n`;
  // The first group creates the value; each next one appends to it (a blob stays a blob).
  const wrap = (sql: string, first: boolean) =>
    value.kind === "text"
      ? first
        ? sql
        : `v || (${sql})`
      : value.kind === "hexText"
        ? `${first ? "" : "v || "}CAST(${sql} AS TEXT)`
        : `CAST(${first ? "" : "v || "}${sql} AS BLOB)`;
  const statement = (sql: string, first: boolean) =>
    first ? `${insert}${wrap(sql, true)});\n` : `UPDATE ${stage} SET v = ${wrap(sql, false)} WHERE k = ${k};\n`;
  // Room for the statement around the pieces: its text, with the stage's name, and the casts.
  const room = D1_STATEMENT_BYTES - utf8Length(statement("", false)) - 32;
  let out = "";
  let group: string[] = [];
  let bytes = 0;
  for (const piece of value.pieces) {
    // The piece, its `||` and the parentheses of the join.
    const size = utf8Length(piece) + 4;
    if (group.length > 0 && bytes + size > room) {
      out += statement(joinPieces(group), out === "");
      group = [];
      bytes = 0;
    }
    group.push(piece);
    bytes += size;
  }
  return out + statement(joinPieces(group), out === "");
}

/**
 * SQL expression: the bytes of the row's text and blob values, or more than any budget when one
 * of them is longer than {@link D1_PIECE_BYTES} (JavaScript cuts those into pieces).
 */
export function d1RowBytesExpr(refs: readonly string[]): string {
  if (refs.length === 0) return "0";
  return refs
    .map((r) => `iif(typeof(${r}) IN ('text','blob'), iif(octet_length(${r}) > ${D1_PIECE_BYTES}, ${D1_STATEMENT_BYTES}, octet_length(${r})), 0)`)
    .join(" + ");
}

/**
 * The most bytes of text and blob values ({@link d1RowBytesExpr}) with which a row's statement
 * stays within {@link D1_STATEMENT_BYTES} whatever the values: a value of n bytes takes at most
 * 2n + 17 (quotes doubled, or hex in `CAST(X'…' AS TEXT)`), a number, NULL or expression at most
 * 60 (an exact real is 26 at most).
 */
export function d1RowBudget(pieces: readonly Piece[]): number {
  let fixed = 0;
  for (const p of pieces) fixed += p.kind === "text" ? utf8Length(p.text) : 60;
  return Math.max(0, Math.floor((D1_STATEMENT_BYTES - fixed) / 2));
}

/**
 * The quoted name of the staging table of d1 rows (see {@link d1Statements}): `_durable_dump_stage`,
 * or with a number after it when a table of the database has that name (any case).
 */
export function d1StageName(tables: readonly string[]): string {
  const taken = new Set(tables.map((t) => t.toLowerCase()));
  let name = "_durable_dump_stage";
  for (let n = 2; taken.has(name); n++) name = `_durable_dump_stage_${n}`;
  return `"${name}"`;
}
