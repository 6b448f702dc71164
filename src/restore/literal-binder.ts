/**
 * Turns a statement into what `sql.exec` accepts. A Durable Object refuses any query text over
 * 100,000 bytes of UTF-8, but takes values up to 2 MB as bound parameters (at most 100 per
 * query). So a statement over the limit gets its largest literals replaced by `?`, and text that
 * is not valid UTF-8 (which a JavaScript string cannot carry) is bound as bytes inside
 * `CAST(? AS TEXT)`, which stores exactly those bytes, as the literal would.
 */
import { DumpError } from "../errors.js";
import { fromHexBytes } from "../util/bytes.js";
import { SqlLexer, type SqlToken, Tok } from "./sql-lexer.js";

/** The longest query text a Durable Object runs, in UTF-8 bytes. */
export const MAX_QUERY_BYTES = 100_000;
/** The most parameters one query may bind. */
export const MAX_PARAMS = 100;

/** A query as `sql.exec` takes it. */
export interface BoundQuery {
  sql: string;
  params: SqlStorageValue[];
}

const STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LENIENT = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** The text of `bytes`, or null when they are not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return STRICT.decode(bytes);
  } catch {
    return null;
  }
}

/** A literal token and how it is bound. */
interface Binding {
  token: SqlToken;
  /** `?`, or `CAST(? AS TEXT)` for text that is not valid UTF-8. */
  placeholder: string;
  value: SqlStorageValue;
}

/** The bytes of a string literal's text: quotes removed, doubled quotes undone. */
function stringBytes(bytes: Uint8Array, token: SqlToken): Uint8Array {
  const inner = bytes.subarray(token.start + 1, bytes[token.end - 1] === 0x27 && token.end - token.start > 1 ? token.end - 1 : token.end);
  if (inner.indexOf(0x27) < 0) return inner;
  const out = new Uint8Array(inner.length);
  let n = 0;
  for (let i = 0; i < inner.length; i++) {
    out[n++] = inner[i]!;
    if (inner[i] === 0x27 && inner[i + 1] === 0x27) i++;
  }
  return out.subarray(0, n);
}

function bufferOf(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

/** How literal `token` is bound, or null when it cannot be (a blob literal with bad hex: left for SQLite to refuse). */
function bindingOf(bytes: Uint8Array, token: SqlToken): Binding | null {
  if (token.type === Tok.Blob) {
    const blob = fromHexBytes(bytes.subarray(token.start + 2, token.end - 1));
    return blob ? { token, placeholder: "?", value: bufferOf(blob) } : null;
  }
  const raw = stringBytes(bytes, token);
  const text = utf8OrNull(raw);
  return text === null ? { token, placeholder: "CAST(? AS TEXT)", value: bufferOf(raw) } : { token, placeholder: "?", value: text };
}

/**
 * The query of one statement: its text as it is when that fits a query and is valid UTF-8, else
 * with literals bound as parameters (the largest first, until the text fits).
 *
 * @param mayBind whether literals of this statement are values (INSERT, UPDATE, DELETE), so that they may be bound.
 * @throws {DumpError} `STATEMENT_TOO_LARGE` when the statement cannot be brought under the limit.
 */
export function toQuery(bytes: Uint8Array, mayBind: boolean): BoundQuery {
  const text = bytes.length <= MAX_QUERY_BYTES ? utf8OrNull(bytes) : null;
  if (text !== null) return { sql: text, params: [] };
  if (!mayBind) {
    if (bytes.length <= MAX_QUERY_BYTES) return { sql: LENIENT.decode(bytes), params: [] };
    throw new DumpError(
      "STATEMENT_TOO_LARGE",
      `A statement of ${bytes.length} bytes cannot be run: a Durable Object runs at most ${MAX_QUERY_BYTES} bytes of query text, and only the values of INSERT, UPDATE and DELETE statements can be bound as parameters.`,
    );
  }
  const lex = new SqlLexer(bytes);
  const literals: Binding[] = [];
  for (let t = lex.next(); t; t = lex.next()) {
    const binding = t.type === Tok.String || t.type === Tok.Blob ? bindingOf(bytes, t) : null;
    if (binding) literals.push(binding);
  }
  // Text that is not valid UTF-8 must be bound whatever its size; then the largest literals, until the text fits.
  const chosen = literals.filter((b) => b.placeholder !== "?");
  let length = bytes.length;
  const choose = (b: Binding) => {
    length += b.placeholder.length - (b.token.end - b.token.start);
  };
  chosen.forEach(choose);
  for (const b of literals.filter((l) => l.placeholder === "?").sort((x, y) => y.token.end - y.token.start - (x.token.end - x.token.start))) {
    if (length <= MAX_QUERY_BYTES) break;
    chosen.push(b);
    choose(b);
  }
  if (length > MAX_QUERY_BYTES || chosen.length > MAX_PARAMS) {
    throw new DumpError(
      "STATEMENT_TOO_LARGE",
      `A statement of ${bytes.length} bytes cannot be run: a Durable Object runs at most ${MAX_QUERY_BYTES} bytes of query text with at most ${MAX_PARAMS} parameters, and binding its largest literals does not bring it under that.`,
    );
  }
  chosen.sort((a, b) => a.token.start - b.token.start);
  let sql = "";
  let at = 0;
  for (const b of chosen) {
    sql += LENIENT.decode(bytes.subarray(at, b.token.start)) + b.placeholder;
    at = b.token.end;
  }
  sql += LENIENT.decode(bytes.subarray(at));
  return { sql, params: chosen.map((b) => b.value) };
}
